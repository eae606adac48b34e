#!/usr/bin/env bash
# Source on the GPU host after scripts/device_setup.sh, from the repository root, in each call that
# carries a group of .fa4/carry (scripts/pack_fa4.sh). Parts collect in /tmp/fa4 while the machine
# stays warm; once every wheel is rebuilt they are installed into the same site as kernelwright.
STAGE=${FA4_STAGE:-/tmp/fa4}
if python3 scripts/carry_parts.py join .fa4/carry/* --stage "$STAGE"; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "${KW_SITE:-/tmp/site}" "$STAGE"/*.whl \
        && (cd /tmp && python3 -c "import flash_attn.cute; print('flash-attn-4 ready')")
else
    echo "flash-attn-4 not installed yet (see above)"
fi
