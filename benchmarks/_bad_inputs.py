"""Seeded bad inputs (space files mutated from the ready-made ones, broken datasets) and their verdicts.

Each case is written to disk and given to the CLI in this process (``autocnn spaces validate``
or ``autocnn datasets info``). It must either load (exit 0) or be refused with exit code 2 and
a short message whose first line names the file; anything else (a traceback, another exit
code, a message that names no file, a case running past its time limit) is a broken case.
"""

from __future__ import annotations

import contextlib
import copy
import enum
import gzip
import io
import math
import random
import signal
import struct
import time
import traceback
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
import yaml

#: The most lines a refusal may print (a file with many mistakes lists the first few).
MAX_MESSAGE_LINES = 12
CASE_TIMEOUT_S = 30


class Outcome(enum.Enum):
    """How the CLI took one bad input."""

    LOADED = "loaded"
    REFUSED = "refused clearly"
    BROKEN = "broken"


@dataclass(frozen=True)
class BadInput:
    """One generated input: what was done to it, and how to write it under a folder."""

    kind: str
    description: str
    write: Callable[[Path], Path]


@dataclass(frozen=True)
class Verdict:
    """What the CLI did with one input."""

    case: BadInput
    outcome: Outcome
    exit_code: int | None
    detail: str


class _CaseTimeoutError(Exception):
    pass


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _CaseTimeoutError


def judge(case: BadInput, folder: Path, *, command: tuple[str, ...]) -> Verdict:
    """Write ``case`` under ``folder`` and run ``autocnn COMMAND PATH`` on it in this process."""
    from autocnn.cli import main

    path = case.write(folder)
    stdout, stderr = io.StringIO(), io.StringIO()
    # A timer already running (pytest-timeout's) is put back, less the time this case took.
    outer_left, _ = signal.getitimer(signal.ITIMER_REAL)
    outer_handler = signal.signal(signal.SIGALRM, _on_alarm)
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, CASE_TIMEOUT_S)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code: int | None = main([*command, str(path)])
    except _CaseTimeoutError:
        return Verdict(case, Outcome.BROKEN, None, f"still running after {CASE_TIMEOUT_S} s")
    except BaseException:
        return Verdict(case, Outcome.BROKEN, None, traceback.format_exc(limit=-3))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, outer_handler)
        if outer_left > 0:
            signal.setitimer(signal.ITIMER_REAL, max(outer_left - (time.monotonic() - started), 0.001))
    message = stderr.getvalue()
    lines = [line for line in message.splitlines() if line.strip()]
    if code == 0:
        return Verdict(case, Outcome.LOADED, code, stdout.getvalue()[:200])
    clear = (
        code == 2
        and "Traceback" not in message
        and 0 < len(lines) <= MAX_MESSAGE_LINES
        and lines[0].startswith("error: ")
        and str(path) in lines[0]
    )
    return Verdict(case, Outcome.REFUSED if clear else Outcome.BROKEN, code, message[-600:])


# ---- space files ------------------------------------------------------------------------------


def _ready_made() -> dict[str, dict[str, Any]]:
    from autocnn.space import ready_made_spaces

    return {name: yaml.safe_load(entry.read_text()) for name, entry in ready_made_spaces().items()}


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Yield (path, value) for every mapping entry and list item under ``node``."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield (*prefix, key), value
        yield from _paths(value, (*prefix, key))


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


def _copy(data: Any) -> Any:
    return copy.deepcopy(data)


def _dump(data: Any, *, allow_unicode: bool = False) -> str:
    return yaml.dump(data, Dumper=_DUMPER, allow_unicode=allow_unicode)


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _misspell(word: str, rng: random.Random) -> str:
    if len(word) < 2:
        return word + "x"
    index = rng.randrange(len(word) - 1)
    choice = rng.randrange(3)
    if choice == 0:
        return word[:index] + word[index + 1] + word[index] + word[index + 2 :]
    if choice == 1:
        return word[:index] + word[index + 1 :]
    return word[:index] + word[index] + word[index:]


WRONG_VALUES: tuple[Any, ...] = ("lots", [], {}, True, None, [1, "a"], {"low": "x", "high": 3}, "", [[8]])
OUT_OF_RANGE: tuple[Any, ...] = (-1, 0, -1e9, 1e9, 10**30, 0.5, 1.5, -0.0001, 2**63)
UNICODE_TEXT = (
    "ｆｉｌｔｅｒｓ",
    "filters\u200b",
    "8\ufe0f\u20e3",
    "\u202eevil",
    "名前",
    "𝔣𝔦𝔩𝔱𝔢𝔯𝔰",
    "é" * 300,
)


def _space_mutations() -> list[tuple[str, Callable[[dict[str, Any], random.Random], str | bytes]]]:
    def leaf(data: dict[str, Any], rng: random.Random) -> tuple[tuple[Any, ...], Any]:
        return rng.choice(list(_paths(data)))

    def wrong_type(data: dict[str, Any], rng: random.Random) -> str:
        path, _ = leaf(data, rng)
        _set(data, path, rng.choice(WRONG_VALUES))
        return _dump(data)

    def out_of_range(data: dict[str, Any], rng: random.Random) -> str:
        numbers = [(p, v) for p, v in _paths(data) if isinstance(v, int | float) and not isinstance(v, bool)]
        path, _ = rng.choice(numbers or list(_paths(data)))
        _set(data, path, rng.choice(OUT_OF_RANGE))
        return _dump(data)

    def unknown_key(data: dict[str, Any], rng: random.Random) -> str:
        mappings = [v for _, v in _paths(data) if isinstance(v, dict)] + [data]
        rng.choice(mappings)["".join(rng.choice("abcdefghij_") for _ in range(rng.randint(1, 12)))] = 1
        return _dump(data)

    def misspelt_key(data: dict[str, Any], rng: random.Random) -> str:
        mappings = [v for _, v in _paths(data) if isinstance(v, dict) and v] + [data]
        mapping = rng.choice(mappings)
        key = rng.choice(list(mapping))
        mapping[_misspell(str(key), rng)] = mapping.pop(key)
        return _dump(data)

    def empty_section(data: dict[str, Any], rng: random.Random) -> str:
        data[rng.choice(["model", "training", "search", "seeds", "name"])] = rng.choice([{}, [], None, "", 0])
        return _dump(data)

    def huge_number(data: dict[str, Any], rng: random.Random) -> str:
        path, _ = leaf(data, rng)
        _set(data, path, "HUGE")
        return _dump(data).replace(
            "HUGE", rng.choice(["1" + "0" * 400, "-9" * 200, "1e999", "0x" + "f" * 80])
        )

    def nan_inf(data: dict[str, Any], rng: random.Random) -> str:
        path, _ = leaf(data, rng)
        _set(
            data,
            path,
            rng.choice([math.nan, math.inf, -math.inf, [math.nan, 1], {"low": 0, "high": math.inf}]),
        )
        return _dump(data)

    def unicode(data: dict[str, Any], rng: random.Random) -> str | bytes:
        path, _ = leaf(data, rng)
        if rng.random() < 0.2:
            return _dump(data).encode() + b"\nbad: \xff\xfe\xc3\x28\n"  # not UTF-8
        _set(data, path, rng.choice(UNICODE_TEXT))
        if rng.random() < 0.5:
            mapping = rng.choice([v for _, v in _paths(data) if isinstance(v, dict)] + [data])
            mapping[rng.choice(UNICODE_TEXT)] = 8
        return _dump(data, allow_unicode=True)

    def anchors(data: dict[str, Any], rng: random.Random) -> str:
        choice = rng.randrange(4)
        if choice == 0:  # a billion laughs, of random width and depth
            width, depth = rng.randint(3, 12), rng.randint(3, 10)
            lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
            lines += [f"l{d}: &l{d} [{', '.join([f'*l{d - 1}'] * width)}]" for d in range(1, depth)]
            return "\n".join(lines) + f"\nname: laughs\nmodel: {{blocks: {{filters: *l{depth - 1}}}}}\n"
        if choice == 1:  # an alias that contains itself
            return "name: loop\nmodel: &m {blocks: {filters: [8, *m]}}\n"
        if choice == 2:  # an alias to an anchor never defined
            return _dump(data) + "extra: *nowhere\n"
        return "base: &b {filters: [8, 16]}\nname: merge\nmodel:\n  blocks:\n    <<: *b\n    kernel_size: 3\n"

    def nested(data: dict[str, Any], rng: random.Random) -> str:
        depth = rng.choice([60, 500, 5_000, 30_000])
        opening, closing = rng.choice([("[", "]"), ("{a: ", "}")])
        return _dump(data) + "deep: " + opening * depth + "1" + closing * depth + "\n"

    def large(data: dict[str, Any], rng: random.Random) -> str:
        choice = rng.randrange(3)
        if choice == 0:
            return _dump(data) + "".join(f"k{i}: {i}\n" for i in range(rng.choice([1_000, 50_000])))
        if choice == 1:
            data.setdefault("model", {}).setdefault("blocks", {})["filters"] = list(
                range(1, rng.choice([2_000, 200_000]))
            )
            return _dump(data)
        return _dump(data) + "description: " + "x" * rng.choice([10_000, 2_000_000]) + "\n"

    def broken_syntax(data: dict[str, Any], rng: random.Random) -> str | bytes:
        text = _dump(data)
        choice = rng.randrange(6)
        if choice == 0:
            return text.replace("  ", "\t", 1)
        if choice == 1:
            return text + "model: [unclosed\n"
        if choice == 2:
            cut = rng.randrange(max(1, len(text)))
            return text[:cut]
        if choice == 3:
            return bytes(rng.randrange(256) for _ in range(rng.randint(1, 2_000)))
        if choice == 4:
            return rng.choice(["", "# only a comment\n", "---\n...\n", "- a\n- list\n", "42\n", "~\n"])
        return text + text  # every key twice

    return [
        ("wrong type", wrong_type),
        ("out of range", out_of_range),
        ("unknown key", unknown_key),
        ("misspelt key", misspelt_key),
        ("empty section", empty_section),
        ("huge number", huge_number),
        ("NaN or inf", nan_inf),
        ("unicode", unicode),
        ("anchors and aliases", anchors),
        ("deeply nested", nested),
        ("very large", large),
        ("broken YAML", broken_syntax),
    ]


def bad_spaces(*, seed: int, count: int) -> list[BadInput]:
    """Return ``count`` space files made from the ready-made spaces by one seeded mutation each."""
    rng = random.Random(seed)
    bases = _ready_made()
    mutations = _space_mutations()
    cases = []
    for number in range(count):
        kind, mutate = mutations[number % len(mutations)]
        base_name = rng.choice(sorted(bases))
        content = mutate(_copy(bases[base_name]), rng)

        def write(folder: Path, content: str | bytes = content, number: int = number) -> Path:
            path = folder / f"space_{number:04d}.yaml"
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
            return path

        cases.append(BadInput(kind, f"{kind} in {base_name}.yaml", write))
    return cases


# ---- datasets ---------------------------------------------------------------------------------


def _images(rng: np.random.Generator, count: int, size: int = 8) -> np.ndarray:
    return rng.integers(0, 256, size=(count, size, size), dtype=np.uint8)


def _labels(count: int, classes: int = 3) -> np.ndarray:
    return (np.arange(count) % classes).astype(np.int64)


def _good_arrays(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "x_train": _images(rng, 30),
        "y_train": _labels(30),
        "x_test": _images(rng, 12),
        "y_test": _labels(12),
    }


def _npz_mutations() -> list[
    tuple[str, Callable[[dict[str, np.ndarray], np.random.Generator], dict[str, Any]]]
]:
    def key_missing(arrays: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, Any]:
        arrays.pop(str(rng.choice(list(arrays))))
        return arrays

    def label_count(arrays: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, Any]:
        key = str(rng.choice(["y_train", "y_test"]))
        arrays[key] = arrays[key][: -int(rng.integers(1, 5))]
        return arrays

    def single_class(arrays: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, Any]:
        arrays["y_train"] = np.zeros_like(arrays["y_train"])
        arrays["y_test"] = np.zeros_like(arrays["y_test"])
        return arrays

    def zero_images(arrays: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, Any]:
        for key in (str(rng.choice(["train", "test"])),):
            arrays[f"x_{key}"] = arrays[f"x_{key}"][:0]
            arrays[f"y_{key}"] = arrays[f"y_{key}"][:0]
        return arrays

    def nan_pixels(arrays: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, Any]:
        images = arrays["x_train"].astype(np.float32) / 255
        images.flat[int(rng.integers(images.size))] = rng.choice([np.nan, np.inf, -np.inf])
        arrays["x_train"] = images
        return arrays

    def string_labels(arrays: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, Any]:
        arrays["y_train"] = np.array([str(v) + "x" for v in arrays["y_train"]])
        return arrays

    def labels_out_of_range(arrays: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, Any]:
        key = str(rng.choice(["y_train", "y_test"]))
        labels = arrays[key].astype(np.float64)
        labels[int(rng.integers(len(labels)))] = rng.choice([-1, 10**9, 0.5, np.nan, 2**40])
        arrays[key] = labels.astype(np.int64) if rng.random() < 0.5 and np.isfinite(labels).all() else labels
        return arrays

    def wrong_rank(arrays: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, Any]:
        key = str(rng.choice(["x_train", "x_test"]))
        choice = int(rng.integers(4))
        images = arrays[key]
        arrays[key] = [
            images.reshape(len(images), -1)[:, 0],
            images[..., None, None],
            images.reshape(len(images), 0, -1) if images.size == 0 else images[:, :0, :],
            np.repeat(images[..., None], 600, axis=-1),
        ][choice]
        return arrays

    def odd_dtype(arrays: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, Any]:
        key = str(rng.choice(["x_train", "y_train"]))
        odd = (np.bool_, np.complex64, np.float16, np.int8, np.uint64)
        arrays[key] = arrays[key].astype(odd[int(rng.integers(len(odd)))])
        return arrays

    def mismatched_sizes(arrays: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, Any]:
        arrays["x_test"] = _images(rng, len(arrays["x_test"]), size=int(rng.choice([4, 9, 32])))
        return arrays

    def one_hot_labels(arrays: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, Any]:
        arrays["y_train"] = np.eye(3, dtype=np.float32)[arrays["y_train"]]
        return arrays

    return [
        ("npz: a key missing", key_missing),
        ("npz: label count differs", label_count),
        ("npz: a single class", single_class),
        ("npz: zero images", zero_images),
        ("npz: NaN or inf pixels", nan_pixels),
        ("npz: string labels", string_labels),
        ("npz: labels out of range", labels_out_of_range),
        ("npz: images of the wrong rank", wrong_rank),
        ("npz: an odd dtype", odd_dtype),
        ("npz: train and test sizes differ", mismatched_sizes),
        ("npz: one-hot labels", one_hot_labels),
    ]


def _png(image: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def _jpeg(image: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG")
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` pixels, with one tiny compressed row."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _folder_mutations() -> list[tuple[str, Callable[[Path, np.random.Generator], None]]]:
    def classes(
        folder: Path, rng: np.random.Generator, names: tuple[str, ...] = ("cat", "dog", "eel")
    ) -> None:
        for name in names:
            (folder / name).mkdir(parents=True, exist_ok=True)
            for index in range(6):
                (folder / name / f"{index}.png").write_bytes(_png(_images(rng, 1)[0]))

    def truncated_image(folder: Path, rng: np.random.Generator) -> None:
        classes(folder, rng)
        data = _png(_images(rng, 1)[0]) if rng.random() < 0.5 else _jpeg(_images(rng, 1)[0])
        suffix = ".png" if data.startswith(b"\x89PNG") else ".jpg"
        (folder / "dog" / f"broken{suffix}").write_bytes(data[: int(rng.integers(0, len(data) - 1))])

    def corrupt_image(folder: Path, rng: np.random.Generator) -> None:
        classes(folder, rng)
        data = bytearray(_jpeg(_images(rng, 1)[0]) if rng.random() < 0.5 else _png(_images(rng, 1)[0]))
        for _ in range(int(rng.integers(1, 20))):
            data[int(rng.integers(8, len(data)))] = int(rng.integers(256))
        (folder / "cat" / "corrupt.jpg").write_bytes(bytes(data))

    def not_an_image(folder: Path, rng: np.random.Generator) -> None:
        classes(folder, rng)
        (folder / "eel" / "notes.png").write_bytes(rng.choice([b"", b"hello", b"GIF89a", b"\x00" * 100]))

    def mixed_sizes(folder: Path, rng: np.random.Generator) -> None:
        classes(folder, rng)
        size = int(rng.choice([3, 9, 16, 64]))
        (folder / "cat" / "big.png").write_bytes(_png(_images(rng, 1, size=size)[0]))

    def very_wide(folder: Path, rng: np.random.Generator) -> None:
        classes(folder, rng)
        (folder / "dog" / "wide.png").write_bytes(_png(np.zeros((8, 20_000), dtype=np.uint8)))

    def bomb(folder: Path, rng: np.random.Generator) -> None:
        classes(folder, rng)
        (folder / "dog" / "bomb.png").write_bytes(png_header_only(20_000, 20_000))

    def single_class(folder: Path, rng: np.random.Generator) -> None:
        classes(folder, rng, names=("only",))

    def empty(folder: Path, rng: np.random.Generator) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if rng.random() < 0.5:
            (folder / "cat").mkdir()

    def no_class_folders(folder: Path, rng: np.random.Generator) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(5):
            (folder / f"{index}.png").write_bytes(_png(_images(rng, 1)[0]))

    def colour_and_grey(folder: Path, rng: np.random.Generator) -> None:
        classes(folder, rng)
        (folder / "eel" / "colour.png").write_bytes(_png(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)))

    def unicode_names(folder: Path, rng: np.random.Generator) -> None:
        classes(folder, rng, names=("猫", "chien\u200b", "🐟"))

    return [
        ("folder: a truncated PNG or JPEG", truncated_image),
        ("folder: a corrupt image", corrupt_image),
        ("folder: a file that is no image", not_an_image),
        ("folder: mixed image sizes", mixed_sizes),
        ("folder: a 20,000 px wide image", very_wide),
        ("folder: a PNG claiming 20,000 x 20,000 px", bomb),
        ("folder: a single class", single_class),
        ("folder: no images", empty),
        ("folder: images without class folders", no_class_folders),
        ("folder: colour among greyscale", colour_and_grey),
        ("folder: unicode class names", unicode_names),
    ]


def _idx_bytes(array: np.ndarray, *, magic: int = 0x08) -> bytes:
    header = bytes([0, 0, magic, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def _write_idx(folder: Path, rng: np.random.Generator) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    arrays = _good_arrays(rng)
    kind = int(rng.integers(5))
    broken = str(rng.choice(list(IDX_FILES)))
    for key, array in arrays.items():
        data = _idx_bytes(array)
        if key == broken:
            if kind == 0:
                data = data[: int(rng.integers(0, len(data)))]
            elif kind == 1:
                data = _idx_bytes(array, magic=int(rng.choice([0x09, 0x0D, 0xFF])))
            elif kind == 2:
                data = _idx_bytes(array[: -int(rng.integers(1, 4))])
            elif kind == 3:
                data = (
                    bytes([0, 0, 8, 3]) + (2**31).to_bytes(4, "big") + (8).to_bytes(4, "big") * 2 + data[16:]
                )
            else:
                data = b""
        name = IDX_FILES[key]
        if rng.random() < 0.3:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data)[: None if kind else -5])
        else:
            (folder / name).write_bytes(data)


def bad_datasets(*, seed: int, count: int) -> list[BadInput]:
    """Return ``count`` broken datasets: .npz files, IDX folders and image folders."""
    rng = np.random.default_rng(seed)
    npz, folders = _npz_mutations(), _folder_mutations()
    cases = []
    for number in range(count):
        family = number % 4
        case_seed = int(rng.integers(2**31))
        if family in (0, 1):
            kind, mutate = npz[(number // 4 * 2 + family) % len(npz)]

            def write_npz(
                folder: Path, mutate: Any = mutate, number: int = number, case_seed: int = case_seed
            ) -> Path:
                case_rng = np.random.default_rng(case_seed)
                path = folder / f"data_{number:04d}.npz"
                arrays = mutate(_good_arrays(case_rng), case_rng)
                np.savez(path, **arrays)
                if case_rng.random() < 0.25:  # and sometimes the file itself is damaged
                    data = bytearray(path.read_bytes())
                    if case_rng.random() < 0.5:
                        data = data[: int(case_rng.integers(0, len(data)))]
                    else:
                        for _ in range(10):
                            data[int(case_rng.integers(len(data)))] = int(case_rng.integers(256))
                    path.write_bytes(bytes(data))
                return path

            cases.append(BadInput("npz", kind, write_npz))
        elif family == 2:
            kind, build = folders[(number // 4) % len(folders)]

            def write_folder(
                folder: Path, build: Any = build, number: int = number, case_seed: int = case_seed
            ) -> Path:
                path = folder / f"images_{number:04d}"
                build(path, np.random.default_rng(case_seed))
                return path

            cases.append(BadInput("image folder", kind, write_folder))
        else:

            def write_idx(folder: Path, number: int = number, case_seed: int = case_seed) -> Path:
                path = folder / f"idx_{number:04d}"
                _write_idx(path, np.random.default_rng(case_seed))
                return path

            cases.append(BadInput("IDX", "IDX: a truncated, mislabelled or mis-sized file", write_idx))
    return cases
