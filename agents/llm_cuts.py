"""What to say when an answer ended early (stall, cap, budget) or the server cut the prompt short."""
from __future__ import annotations

from typing import Any, Protocol

from kernelwright.agents.llm_client import Reply
from kernelwright.agents.llm_parse import estimate_tokens

TRUNCATION_MARKER = "prompt_truncated.txt"  # in <run dir>/llm/: the run has warned once


class _Files(Protocol):
    folder: Any
    folder_text: str | None

    def write(self, name: str, text: str) -> None: ...


def cut_hint(reply: Reply) -> str:
    """Words for the model (and the attempt) on why its answer is partial; "" when it ended by itself."""
    if reply.cut == "cap" or reply.finish_reason == "length":
        return f"the answer stopped at the {reply.cap}-token limit: think less, answer sooner"
    if reply.cut == "stall":
        return (f"the answer stalled: no token came for a while after about {reply.completion_tokens} tokens, "
                "so it was cut there")
    return ""


def budget_note(reply: Reply, had_code: bool, files: _Files) -> str:
    """Why a budget-cut attempt has no candidate, and where its partial answer is."""
    where = f" (partial answer in {files.folder_text})" if files.folder_text else ""
    if reply.tries == 0:
        return "the run's budget had ended before the model was asked"
    kept = ("it held a complete kernel, saved unverified" if had_code
            else "it held no complete code block")
    return (f"the run's budget ended while the model was answering (after about {reply.completion_tokens} "
            f"tokens); {kept}{where}")


def truncation_warning(reply: Reply, sent: str, files: _Files, tried: list[dict[str, Any]]) -> str | None:
    """A warning (once per run) when the server counted far fewer prompt tokens than were sent.

    Ollama's OpenAI endpoint, for one, silently keeps only the end of a prompt longer than its
    context. "Far fewer" = under half of a low estimate (four characters a token), so a real
    tokenizer never trips it. The warning goes into the attempt's artifacts and meta; the first
    attempt to see it also writes <run dir>/llm/prompt_truncated.txt, which keeps later ones quiet.
    """
    expected = estimate_tokens(sent)
    if reply.estimated or reply.tries == 0 or reply.prompt_tokens * 2 >= expected:
        return None
    if any((item.get("llm") or {}).get("warning") for item in tried):
        return None
    text = (f"the server counted {reply.prompt_tokens} prompt tokens but about {expected} were sent: it likely "
            "truncated the prompt silently (Ollama does); give the model a larger context (Ollama: num_ctx / "
            "OLLAMA_CONTEXT_LENGTH) and set coder_options.context_tokens to match")
    if files.folder is not None:
        files.folder.mkdir(parents=True, exist_ok=True)
        try:
            with open(files.folder / TRUNCATION_MARKER, "x") as marker:
                marker.write(text + "\n")
        except FileExistsError:
            return None
    files.write("warning.txt", text + "\n")
    return text
