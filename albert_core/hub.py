"""Hub ids (`albert/albert-base-v2`) resolve through huggingface_hub and its standard cache.

No hand-written downloader: a file the user already fetched with transformers is found in the
same cache, offline (HF_HUB_OFFLINE=1 or no network), exactly as transformers finds it.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import require


def looks_like_hub_id(name: str) -> bool:
    parts = str(name).split("/")
    return 1 <= len(parts) <= 2 and all(parts) and not str(name).startswith((".", "/", "~"))


def resolve_file(name_or_path: str | os.PathLike, filename: str, revision: str | None = None) -> Path:
    """A local path for `filename`: inside a local folder, or from the hub repo `name_or_path`."""
    path = Path(name_or_path)
    if path.is_dir():
        candidate = path / filename
        if not candidate.exists():
            raise FileNotFoundError(f"no {filename} in folder {path}")
        return candidate
    if not looks_like_hub_id(str(name_or_path)):
        raise FileNotFoundError(f"{name_or_path} is neither a local folder nor a hub id")
    hub = require("huggingface_hub", f"loading {name_or_path!r} from the hub", extra="hub")
    try:
        return Path(hub.hf_hub_download(repo_id=str(name_or_path), filename=filename, revision=revision))
    except hub.errors.LocalEntryNotFoundError as exc:  # offline and not cached (subclass of the next)
        raise FileNotFoundError(
            f"{name_or_path!r} is not a local path, and {filename} of that hub repo is neither in the "
            f"local cache nor downloadable now ({exc.__class__.__name__})"
        ) from exc
    except hub.errors.HFValidationError as exc:  # a ValueError: "{bad}" is no repo name
        raise FileNotFoundError(f"{name_or_path!r} is neither a local path nor a valid hub repo id ({exc})") from exc
    except hub.errors.EntryNotFoundError as exc:
        raise FileNotFoundError(f"hub repo {name_or_path!r} has no file {filename}") from exc
    except (hub.errors.RepositoryNotFoundError, OSError) as exc:
        raise FileNotFoundError(
            f"{name_or_path!r} is not a local path, and the hub could not provide {filename} "
            f"(not in the local cache and not downloadable: {type(exc).__name__}: {exc})"
        ) from exc


def hub_file_exists(name_or_path: str, filename: str, revision: str | None = None) -> bool:
    """Whether `filename` can be resolved (cache or hub), without raising."""
    try:
        resolve_file(name_or_path, filename, revision)
        return True
    except (FileNotFoundError, ImportError):
        return False
