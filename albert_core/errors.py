"""The project's exception types: every public entry point raises one of these for bad input.

Each subclasses the built-in a Python user would catch anyway (ValueError, FileNotFoundError,
ImportError), so `except ValueError` keeps working, and each message names the thing at fault.
"""


class AlbertError(Exception):
    """Base class of every error this project raises on purpose."""


class ConfigError(AlbertError, ValueError):
    """A config (a field, a config.json) is malformed or inconsistent."""


class TokenizerError(AlbertError, ValueError):
    """The tokenizer was given input it cannot encode or decode (or a bad spiece.model)."""


class CheckpointError(AlbertError, ValueError):
    """A checkpoint file is missing tensors, has wrong shapes, is truncated or corrupt."""


class MissingDependencyError(AlbertError, ImportError):
    """An optional package (a framework, h5py, huggingface_hub...) is needed but not installed."""

    def __init__(self, package: str, needed_for: str, extra: str | None = None):
        hint = f"pip install 'albert[{extra}]'" if extra else f"pip install {package}"
        super().__init__(f"{needed_for} needs the package '{package}', which is not installed ({hint}).")
        self.package = package
        self.needed_for = needed_for


def require(module: str, needed_for: str, extra: str | None = None, package: str | None = None):
    """Import an optional module lazily, or raise MissingDependencyError saying what needs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(package or module.split(".")[0], needed_for, extra) from exc
