#!/usr/bin/env bash
# Source on the GPU host after scripts/device_setup.sh, from the repository root, in each call that
# carries a group of .fa4/carry (scripts/pack_fa4.sh). Parts collect in /tmp/fa4 while the machine
# stays warm; once every wheel is rebuilt they are installed into the same site as kernelwright.
# Later calls on the same warm machine source it without a group: it only sets the path again.
STAGE=${FA4_STAGE:-/tmp/fa4}
SITE=${KW_SITE:-/tmp/site}
# nvidia-cutlass-dsl puts its `cutlass` package on sys.path from a .pth file, which Python reads in
# site-packages only, not in a PYTHONPATH folder like $SITE: name the folder directly
export PYTHONPATH="$SITE/nvidia_cutlass_dsl/dsl_packages${PYTHONPATH:+:$PYTHONPATH}"
if [ -d "$SITE/flash_attn/cute" ] && [ ! -d .fa4/carry ]; then
    (cd /tmp && python3 -c "import flash_attn.cute; print('flash-attn-4 ready')")
elif python3 scripts/carry_parts.py join .fa4/carry/* --stage "$STAGE"; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$SITE" "$STAGE"/*.whl \
        && (cd /tmp && python3 -c "import flash_attn.cute; print('flash-attn-4 ready')")
else
    echo "flash-attn-4 not installed yet (see above)"
fi
