"""A small mutation runner: swap one function's code for a mutant, run the tests that call it.

Why not mutmut 3.x: it copies the tree into ``mutants/``, runs the whole suite once to map tests to
functions (15+ minutes here, browser tests included) and forks its workers from a process that has
already started scikit-learn's OpenMP threads (the deadlock the issue describes). On a shared
2-core machine that does not fit. This runner keeps mutmut's idea (map tests to the functions
they call, run only those per mutant) in ~300 lines:

1. BLAS/OpenMP are pinned to one thread *before* numpy is imported, so forking is safe.
2. The parent imports the module under test and the candidate test modules once.
3. A first forked child runs the candidate tests with a profiler that records, for every function
   of the module, the tests that call it (directly, or through a fixture the test uses).
4. Each mutant runs in its own forked child: the function object's ``__code__`` is replaced by the
   mutant's code (so every ``from module import f`` sees it) and pytest runs the mapped tests with
   ``-x``. A failing test kills the mutant; a child that outlives its timeout is killed and counted
   as "timeout" (a killed mutant, reported apart). A mutant no test reaches is "not covered" and
   counts as a survivor.

Only function and method bodies are mutated (module-level constants and class bodies are not:
they run at import time, before the swap). Mutants listed in ``equivalents.md`` (same behaviour,
one-line reason each) are excluded from the score and reported apart.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"
# pytest's plugin autoload scans every installed distribution's entry points on each pytest.main call
# (10-15 s per mutant on a busy machine); the fast tests need only hypothesis, loaded explicitly below.
os.environ.setdefault("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")

import argparse  # noqa: E402
import ast  # noqa: E402
import contextlib  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from tests.mutation import ids, operators  # noqa: E402

ROOT = ids.ROOT
CONFIG = ids.config()  # [tool.mutation] of pyproject.toml: modules and their test files, thresholds, equivalents
# Module -> the existing test files that import it (tests/test_known_answers_*.py are added to every
# module). The mapping run leaves out slow tests (those whose call, or a fixture they use, takes more
# than max_test_seconds: the session-wide training fixture, say), then narrows the rest per function.
MODULES: dict[str, list[str]] = {name: list(files) for name, files in CONFIG.get("modules", {}).items()}


@dataclass
class Mutant:
    id: str  # stable: module::function::mutation::"line text"[#n] (tests/mutation/ids.py)
    qualname: str
    index: int
    line: int = 0  # where the mutant is in the file run (for humans; not part of the id)
    outcome: str = ""
    before: str = ""  # outcome against the tests older than tests/test_known_answers_*.py
    seconds: float = 0.0


@dataclass
class ModuleResult:
    module: str
    total_sites: int
    mutants: list[Mutant] = field(default_factory=list)

    def count(self, *outcomes: str, field: str = "outcome") -> int:
        return sum(getattr(m, field) in outcomes for m in self.mutants)

    def row(self) -> dict[str, object]:
        killed = self.count("killed", "timeout")
        survived = self.count("survived", "not covered")
        equivalent = self.count("equivalent")
        scored = killed + survived
        before = self.count("killed", "timeout", field="before")
        before_scored = before + self.count("survived", "not covered", field="before")
        if not before + self.count("survived", field="before"):  # run with --no-before: nothing measured
            before_scored = 0
        return {
            "module": self.module,
            "mutants": len(self.mutants),
            "of": self.total_sites,
            "killed": killed,
            "timeout": self.count("timeout"),
            "survived": survived,
            "not_covered": self.count("not covered"),
            "equivalent": equivalent,
            "score": round(100.0 * killed / scored, 1) if scored else float("nan"),
            "before": round(100.0 * before / before_scored, 1) if before_scored else float("nan"),
        }


def candidate_tests(module: str, known_answers: bool = True) -> list[str]:
    files = [f"tests/{name}" for name in MODULES[module]]
    if known_answers:
        files += sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_known_answers_*.py"))
    return [f for f in files if (ROOT / f).exists()]


def equivalent_ids() -> set[str]:
    """Mutant ids listed as ``- `id` — reason`` in the equivalents file."""
    path = ids.equivalents_path()
    if not path.exists():
        return set()
    return set(ids.entries(path.read_text(encoding="utf-8")))


def _live_functions(module: types.ModuleType) -> dict[str, list[types.FunctionType]]:
    """Function objects defined in ``module``'s file, by ``co_qualname``."""
    filename = module.__file__
    found: dict[str, list[types.FunctionType]] = {}
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType) and obj.__code__.co_filename == filename:
            found.setdefault(obj.__code__.co_qualname, []).append(obj)
    return found


def _find_code(code: types.CodeType, qualname: str) -> types.CodeType | None:
    if code.co_qualname == qualname and code.co_name != "<module>":
        return code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            hit = _find_code(const, qualname)
            if hit is not None:
                return hit
    return None


def mutant_code(tree: ast.Module, path: str, func: ast.AST, qualname: str, index: int) -> types.CodeType | None:
    """Compile the whole module with one function mutated and return that function's code."""
    import copy

    mutated = operators.mutate(func, index)
    where = (func.name, func.lineno, func.col_offset)

    class Swap(ast.NodeTransformer):  # on a deep copy: the parsed tree is shared by every mutant
        def visit_FunctionDef(self, node: ast.AST) -> ast.AST:
            return mutated if (node.name, node.lineno, node.col_offset) == where else self.generic_visit(node)

        visit_AsyncFunctionDef = visit_FunctionDef

    module_tree = Swap().visit(copy.deepcopy(tree))
    ast.fix_missing_locations(module_tree)
    code = compile(module_tree, path, "exec")
    return _find_code(code, qualname)


class _CallMap:
    """pytest plugin: which tests (or fixtures) call which functions of the module."""

    def __init__(self, codes: dict[types.CodeType, str]) -> None:
        self.codes = codes
        self.current: str | None = None
        self.fixtures: list[str] = []
        self.calls: dict[str, set[str]] = {}
        self.fixture_calls: dict[str, set[str]] = {}
        self.item_fixtures: dict[str, list[str]] = {}
        self.failed: list[str] = []
        self.fixture_seconds: dict[str, float] = {}
        self.test_seconds: dict[str, float] = {}

    def _profile(self, frame, event, arg):
        if event == "call":
            qualname = self.codes.get(frame.f_code)
            if qualname is not None:
                if self.fixtures:
                    self.fixture_calls.setdefault(self.fixtures[-1], set()).add(qualname)
                if self.current is not None:
                    self.calls.setdefault(qualname, set()).add(self.current)

    def start(self) -> None:
        sys.setprofile(self._profile)
        threading.setprofile(self._profile)

    def pytest_runtest_protocol(self, item, nextitem):
        self.fixtures.clear()
        self.current = item.nodeid
        self.item_fixtures[item.nodeid] = list(getattr(item, "fixturenames", []))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef, request):
        self.fixtures.append(fixturedef.argname)
        started = time.monotonic()
        yield
        spent = time.monotonic() - started
        self.fixture_seconds[fixturedef.argname] = max(spent, self.fixture_seconds.get(fixturedef.argname, 0.0))
        self.fixtures.pop()

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.failed.append(report.nodeid)
        if report.when == "call":
            self.test_seconds[report.nodeid] = report.duration

    def mapping(self, max_seconds: float) -> tuple[dict[str, list[str]], list[str]]:
        """Function -> fast tests that call it; and the tests left out as slow.

        A test is slow when its own call, or the setup of any fixture it uses (a session
        fixture that trains a model, say), took longer than ``max_seconds`` under the profiler.
        """
        slow_fixtures = {name for name, spent in self.fixture_seconds.items() if spent > max_seconds}
        slow = {
            nodeid
            for nodeid, names in self.item_fixtures.items()
            if self.test_seconds.get(nodeid, 0.0) > max_seconds or slow_fixtures.intersection(names)
        }
        out = {q: set(tests) for q, tests in self.calls.items()}
        for nodeid, names in self.item_fixtures.items():
            for name in names:
                for qualname in self.fixture_calls.get(name, ()):
                    out.setdefault(qualname, set()).add(nodeid)
        return {q: sorted(t - slow) for q, t in out.items() if t - slow}, sorted(slow)


PYTEST_ARGS = ["-q", "-p", "no:cacheprovider", "-m", "not slow and not browser", "-W", "ignore::DeprecationWarning"]
if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
    PYTEST_ARGS += ["-p", "_hypothesis_pytestplugin"]


def _in_child(fn, timeout: float) -> tuple[str, object]:
    """Run ``fn`` in a forked child; return ("ok", result) / ("error", code) / ("timeout", None)."""
    fd, out_path = tempfile.mkstemp(prefix="mutation-")
    os.close(fd)
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.setpgid(0, 0)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            result = fn()
            Path(out_path).write_text(json.dumps(result))
            os._exit(0)
        except BaseException:
            os._exit(3)
    deadline = time.monotonic() + timeout
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                text = Path(out_path).read_text()
                return ("ok", json.loads(text)) if code == 0 and text else ("error", code)
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return "timeout", None
            time.sleep(0.02)
    finally:
        Path(out_path).unlink(missing_ok=True)


def run_module(
    out_file: Path,
    module_name: str,
    sample: int | None,
    seed: int,
    timeout_factor: float,
    max_test_seconds: float,
    known_answers: bool,
    log,
    only: list[str] | None = None,
    before: bool = True,
    map_tests: bool = True,
) -> ModuleResult:
    os.chdir(ROOT)
    module = importlib.import_module(module_name)
    path = module.__file__
    source = Path(path).read_text(encoding="utf-8")
    tree = ast.parse(source, path)
    defs = ids.functions(tree)
    live = _live_functions(module)
    tests = candidate_tests(module_name, known_answers)
    # Import once in the parent, the shared conftest (it imports the training stack) included: every
    # forked child starts with them loaded instead of importing them again for each mutant.
    for test in ["tests/conftest.py", *tests]:
        if (ROOT / test).exists():
            importlib.import_module(test[:-3].replace("/", "."))

    codes = {fn.__code__: q for q, fns in live.items() if q in defs for fn in fns}

    def map_calls() -> dict:
        plugin = _CallMap(codes)
        plugin.start()
        started = time.monotonic()
        code = pytest.main([*PYTEST_ARGS, *tests], plugins=[plugin])
        sys.setprofile(None)
        calls, slow = plugin.mapping(max_test_seconds)
        return {
            "map": calls,
            "slow": slow,
            "exit": int(code),
            "failed": plugin.failed,
            "seconds": time.monotonic() - started,
        }

    if map_tests:
        status, mapped = _in_child(map_calls, timeout=3600)
    else:  # every candidate test file for every function: no mapping pass (a quick check of a few mutants)
        status, mapped = "ok", {"map": {q: tests for q in defs}, "slow": [], "failed": [], "seconds": 60.0}
    if status != "ok":
        raise RuntimeError(f"mapping run for {module_name} failed: {status} {mapped}")
    if mapped["failed"]:
        raise RuntimeError(f"tests fail before mutation: {mapped['failed'][:5]}")
    calls: dict[str, list[str]] = mapped["map"]
    log(
        f"{module_name}: mapped {len(calls)} functions in {mapped['seconds']:.0f} s over {len(tests)} test files;"
        f" {len(mapped['slow'])} slow tests left out"
    )
    fast_seconds = max(5.0, mapped["seconds"] / 4)

    all_mutants = [Mutant(s.id, s.qualname, s.index, s.line) for s in ids.sites_of_source(module_name, source, path)]
    result = ModuleResult(module_name, len(all_mutants))
    if only:
        all_mutants = [m for m in all_mutants if any(part in m.id for part in only)]
    chosen = all_mutants
    if sample is not None and sample < len(all_mutants):
        chosen = sorted(random.Random(seed).sample(all_mutants, sample), key=lambda m: (m.qualname, m.index))
    equivalents = equivalent_ids()

    for mutant in chosen:
        result.mutants.append(mutant)
        if mutant.id in equivalents:
            mutant.outcome = mutant.before = "equivalent"
            continue
        selected = calls.get(mutant.qualname, [])
        if not selected:
            mutant.outcome = mutant.before = "not covered"
            continue
        try:
            code = mutant_code(tree, path, defs[mutant.qualname], mutant.qualname, mutant.index)
        except (SyntaxError, ValueError, TypeError):
            code = None
        targets = live.get(mutant.qualname, [])
        if code is None or not targets or any(f.__code__.co_freevars != code.co_freevars for f in targets):
            mutant.outcome = "skipped"
            continue

        def run(tests: list[str], targets=targets, code=code) -> str:
            """Outcome of the mutant against ``tests`` (in a forked child)."""

            def child() -> int:
                for fn in targets:
                    fn.__code__ = code
                return int(pytest.main([*PYTEST_ARGS, "-x", *tests]))

            status, exit_code = _in_child(child, timeout=max(20.0, timeout_factor * fast_seconds))
            if status == "timeout":
                return "timeout"
            return "survived" if status == "ok" and exit_code == 0 else "killed"

        # The tests that existed before tests/test_known_answers_*.py first: that gives the "before"
        # score in the same run; the new tests only run on the mutants the old ones let through.
        old = [t for t in selected if "test_known_answers_" not in t]
        new = [t for t in selected if "test_known_answers_" in t]
        started = time.monotonic()
        if not before:  # one run, the fast known-answer tests first
            mutant.outcome = run(new + old)
            mutant.before = "not measured"
        else:
            mutant.before = run(old) if old else "not covered"
            mutant.outcome = mutant.before
            if mutant.before in ("survived", "not covered"):
                mutant.outcome = run(new) if new else mutant.before
        mutant.seconds = time.monotonic() - started
        log(f"  {mutant.outcome:<9} {mutant.seconds:5.1f}s L{mutant.line} {mutant.id}")
        _save(out_file, result)
    result.mutants = [m for m in result.mutants if m.outcome != "skipped"]
    _save(out_file, result)
    return result


def _save(path: Path, result: ModuleResult) -> None:
    """The module's report so far (rewritten after every mutant: an interrupted run keeps its results)."""
    done = [m for m in result.mutants if m.outcome not in ("", "skipped")]
    partial = ModuleResult(result.module, result.total_sites, done)
    path.write_text(json.dumps({"row": partial.row(), "mutants": [asdict(m) for m in done]}, indent=1))


def print_table(results: list[ModuleResult], out=sys.stdout) -> None:
    """Per module: mutants run (of all in the module), killed, survived, equivalents, score now and before.

    ``score`` = killed / (killed + survived), equivalents excluded; ``before`` is the same mutants
    against the tests older than tests/test_known_answers_*.py.
    """
    header = f"{'module':<32}{'mutants':>8}{'of':>6}{'killed':>8}{'survived':>9}{'equiv':>7}{'score':>8}{'before':>8}"
    print(header, file=out)
    print("-" * len(header), file=out)
    total = ModuleResult("total", sum(r.total_sites for r in results), [m for r in results for m in r.mutants])
    for r in [*results, total]:
        row = r.row()
        print(
            f"{row['module'].removeprefix('pipeline.'):<32}{row['mutants']:>8}{row['of']:>6}{row['killed']:>8}"
            f"{row['survived']:>9}{row['equivalent']:>7}{row['score']:>7}%{row['before']:>7}%",
            file=out,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="dotted module names (default: all configured)")
    parser.add_argument("--sample", type=int, default=None, help="at most this many mutants per module")
    parser.add_argument("--seed", type=int, default=15, help="seed of the sample")
    parser.add_argument(
        "--timeout-factor", type=float, default=CONFIG.get("timeout_factor", 3.0), help="per-mutant timeout x clean run"
    )
    parser.add_argument(
        "--max-test-seconds",
        type=float,
        default=CONFIG.get("max_test_seconds", 3.0),
        help="leave out tests (or fixtures) slower than this",
    )
    parser.add_argument("--tests", nargs="*", default=None, help="candidate test files instead of the configured ones")
    parser.add_argument(
        "--without-known-answers", action="store_true", help="leave tests/test_known_answers_*.py out (the 'before')"
    )
    parser.add_argument("--out", default="mutation-results", help="folder for the JSON report")
    parser.add_argument("--quiet", action="store_true", help="no per-mutant lines")
    parser.add_argument(
        "--no-before", action="store_true", help="one run per mutant (known-answer tests first), no 'before' score"
    )
    parser.add_argument(
        "--no-map", action="store_true", help="skip the mapping pass: every candidate test file for every mutant"
    )
    parser.add_argument("--recheck", default=None, help="with --report: a folder of re-runs whose outcomes win")
    parser.add_argument("--only", nargs="*", default=None, help="run only mutants whose id contains one of these")
    parser.add_argument(
        "--report",
        action="store_true",
        help="run nothing: print the table of the reports in --out (equivalents re-read)",
    )
    parser.add_argument(
        "--convert-equivalents",
        action="store_true",
        help="run nothing: rewrite old line-number ids (module::function::Lline:Ccol::mutation) of the"
        " equivalents file to stable ids, reading the lines at --at (default: the working tree)",
    )
    parser.add_argument("--at", default=None, help="with --convert-equivalents: git revision the old ids refer to")
    args = parser.parse_args(argv)
    if args.convert_equivalents:
        return ids.convert_file(at=args.at)
    modules = args.modules or list(MODULES)
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module(s): {', '.join(unknown)}")

    def log(text: str) -> None:
        if not args.quiet or not text.startswith("  "):
            print(text, file=sys.stderr, flush=True)

    out_dir = ROOT / args.out
    out_dir.mkdir(exist_ok=True)
    if args.report:
        results = [r for r in (_load(out_dir / f"{name}.json") for name in modules) if r is not None]
        if args.recheck:  # outcomes of the same mutants re-run later (after new tests) replace the first ones
            again = {
                m.id: m for name in modules if (r := _load(ROOT / args.recheck / f"{name}.json")) for m in r.mutants
            }
            for res in results:
                for m in res.mutants:
                    if m.id in again and again[m.id].outcome:
                        m.outcome = again[m.id].outcome
        _print_survivors(results)
        print_table(results)
        return 0
    results = []
    for name in modules:
        (out_dir / f"{name}.json").unlink(missing_ok=True)
        pid = os.fork()  # one clean parent per module: imports of one module's tests do not leak
        if pid == 0:
            try:
                if args.tests is not None:
                    MODULES[name] = [Path(t).name for t in args.tests]
                run_module(
                    out_dir / f"{name}.json",
                    name,
                    args.sample,
                    args.seed,
                    args.timeout_factor,
                    args.max_test_seconds,
                    not args.without_known_answers,
                    log,
                    args.only,
                    not args.no_before,
                    not args.no_map,
                )
                os._exit(0)
            except Exception as exc:
                print(f"{name}: {exc}", file=sys.stderr, flush=True)
                os._exit(1)
        os.waitpid(pid, 0)
        res = _load(out_dir / f"{name}.json")
        if res is not None:
            results.append(res)
    _print_survivors(results)
    print_table(results)
    return 0


def _load(path: Path) -> ModuleResult | None:
    """A module's saved report, with the equivalents file applied as it is now."""
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    equivalents = equivalent_ids()
    mutants = [Mutant(**m) for m in data["mutants"]]
    for m in mutants:
        if m.id in equivalents:
            m.outcome = m.before = "equivalent"
    return ModuleResult(data["row"]["module"], data["row"]["of"], mutants)


def _print_survivors(results: list[ModuleResult]) -> None:
    for res in results:
        for m in res.mutants:
            if m.outcome in ("survived", "not covered"):
                print(f"  {m.outcome}: L{m.line} {m.id}", file=sys.stderr)
