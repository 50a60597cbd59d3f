"""The one error a model file raises, whatever is wrong with it."""

from __future__ import annotations

__all__ = ["ModelFileError", "model_file_error"]


class ModelFileError(ValueError):
    """A model file that cannot be read: damaged, not a model, of another version, or
    asking for more than its own contents (sizes, shapes) allow. The message is one line
    that starts with the file's name."""


def model_file_error(
    shown: object, problem: str | BaseException, what: str = "damaged model file"
) -> ModelFileError:
    """``ModelFileError("<file>: <what> (<problem>)")`` on one line, for any problem: a
    message, or an exception of whatever type (its type is named unless it is a
    ValueError, whose message already says what is wrong)."""
    if isinstance(problem, BaseException):
        text = str(problem) or type(problem).__name__
        if isinstance(problem, MemoryError):
            text = "it asks for more memory than there is"
        elif not isinstance(problem, ValueError):
            text = f"{type(problem).__name__}: {text}"
    else:
        text = problem
    text = " ".join(text.split())
    if len(text) > 300:
        text = text[:297] + "..."
    return ModelFileError(f"{shown}: {what} ({text})" if what else f"{shown}: {text}")
