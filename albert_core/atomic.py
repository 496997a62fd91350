"""Crash-safe writes: a reader sees the old file (or folder) or the new one, never a mix.

Files are written to a temporary sibling, flushed to disk, then renamed over the target
(rename is atomic on POSIX within one filesystem). Folders are built as a sibling temp folder
and swapped in whole, so a `save_pretrained` killed half way leaves the previous save intact.

The folder swap is one system call on Linux: renameat2(RENAME_EXCHANGE) exchanges the two names
atomically (ext4, xfs, btrfs, tmpfs...), so `path` names a complete folder at every instant, even
under SIGKILL or power loss. Where the kernel or filesystem lacks it (other systems, some network
filesystems) the swap is two renames (old aside, new in); a crash between them leaves `path`
absent and the old folder beside it, and the next `atomic_folder` on that path (or an explicit
`recover_folder`) puts it back. Temp folders of writers that died are removed the same way.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Iterator

_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100
# Errors that mean "this kernel / filesystem cannot exchange": fall back to two renames.
_NO_EXCHANGE = {errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP}


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "wb") -> Iterator:
    """Open a temp file beside `path`; on clean exit it replaces `path`, on error it vanishes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_file(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_file(path, "w") as handle:
        handle.write(text)


# ----- folders ------------------------------------------------------------------------------------


def _libc_renameat2():
    """libc's renameat2 (glibc >= 2.28), or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_renameat2 = _libc_renameat2()


def exchange(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Atomically swap the names `a` and `b` (both must exist); False where the system cannot."""
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in _NO_EXCHANGE:
        return False
    raise OSError(err, os.strerror(err), str(b))


def _temp_name(path: Path, kind: str) -> str:
    """`.{name}.{kind}-{pid}-` prefix: the writer's pid tells recovery whether it is still alive."""
    return f".{path.name}.{kind}-{os.getpid()}-"


def _writer_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _leftovers(path: Path, kind: str) -> list[tuple[Path, int]]:
    """(sibling, writer pid) of the temp (`kind`="tmp") or set-aside ("old") folders of `path`."""
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.{kind}-(\d+)-")
    found = []
    with contextlib.suppress(OSError):
        for entry in path.parent.iterdir():
            match = pattern.match(entry.name)
            if match and entry.is_dir() and not entry.is_symlink():
                found.append((entry, int(match.group(1))))
    return found


def recover_folder(path: str | os.PathLike) -> bool:
    """Repair what a writer killed inside `atomic_folder(path)` left; True if `path` was restored.

    - `path` absent but a set-aside old folder beside it (killed between the two renames of the
      fallback swap): the old folder is renamed back, so the previous save is what `path` holds;
    - temp and set-aside folders of writers that are no longer running are deleted.
    A live writer's folders are never touched.
    """
    path = Path(path)
    restored = False
    olds = _leftovers(path, "old")
    if not path.exists() and olds:
        newest, _ = max(olds, key=lambda item: item[0].stat().st_mtime_ns)
        with contextlib.suppress(FileNotFoundError, FileExistsError, OSError):
            os.rename(newest, path)
            _fsync_dir(path.parent)
            restored = True
    for folder, pid in _leftovers(path, "old") + _leftovers(path, "tmp"):
        if not _writer_alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
    return restored


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


def _fsync_tree(root: Path) -> None:
    """Flush every file and folder under `root` to disk before it is swapped in."""
    for folder, _, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(folder))


def _swap_in(tmp: Path, path: Path) -> None:
    """Make the complete folder `tmp` be `path`; whatever `path` was is deleted."""
    if not path.exists():
        os.rename(tmp, path)
    elif exchange(tmp, path):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now names the old folder
    else:
        old = Path(tempfile.mkdtemp(prefix=_temp_name(path, "old"), dir=path.parent))
        old.rmdir()
        os.rename(path, old)
        # A crash here leaves `path` absent; recover_folder renames `old` back.
        os.rename(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    _fsync_dir(path.parent)


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike, keep_existing: bool = True) -> Iterator[Path]:
    """Yield a fresh sibling temp folder; on clean exit it becomes `path` in one swap.

    With keep_existing, files of an existing `path` that the new save does not write are carried
    over (a tokenizer saved beside a model stays), so the swap replaces only what was rewritten.
    Everything is flushed to disk before the swap; at every instant `path` is either the complete
    old folder or the complete new one (see the module doc for systems without RENAME_EXCHANGE).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    recover_folder(path)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{path} exists and is not a folder")
    tmp = Path(tempfile.mkdtemp(prefix=_temp_name(path, "tmp"), dir=path.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp's 0700 would make a saved model private
    try:
        yield tmp
        if keep_existing and path.is_dir():
            for entry in path.iterdir():
                target = tmp / entry.name
                if not target.exists() and not entry.name.startswith("."):
                    if entry.is_dir():
                        shutil.copytree(entry, target)
                    else:
                        shutil.copy2(entry, target)
        _fsync_tree(tmp)
        _swap_in(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
