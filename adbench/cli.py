"""The ``adbench`` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from . import PROFILES, TRACKS, registry
from .config import DatasetSpec, dataset_spec, load_catalogue
from .data.sample import DatasetError, DatasetNotConfigured
from .io import write_text_atomic
from .protocol.plan import OverrideError
from .registry import UnknownNameError


def _fail(msg: str) -> None:
    raise click.ClickException(msg)


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


class _Group(click.Group):
    """Turns plugin-loading errors into one clear message instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        import pluggy

        from .errors import WeightsMissing
        from .registry import DuplicateNameError

        try:
            return super().invoke(ctx)
        except (DuplicateNameError, DatasetError, WeightsMissing) as exc:
            raise click.ClickException(str(exc)) from exc
        except pluggy.PluginValidationError as exc:
            raise click.ClickException(
                f"plugin {exc.plugin!r} is invalid: {exc}. Fix or uninstall it, or exclude it "
                f"with ADBENCH_LOAD_PLUGINS") from exc


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="adbench")
def cli() -> None:
    """adbench: reproducible, fair benchmarks of image anomaly detectors.

    \b
    Typical use:
      adbench list methods                 what is installed
      adbench run all                      every method on the synthetic data set
      adbench run vtadl --dataset mvtec_ad --category bottle --profile paper --device cuda
      adbench report reports/quick         tables from the result rows
    """


# -- list ------------------------------------------------------------------------------
@cli.command("list")
@click.argument("what", default="methods",
                type=click.Choice(["methods", "datasets", "adapters", "metrics", "executors", "reporters", "views",
                                   "figures", "plugins"]))
def list_cmd(what: str) -> None:
    """List installed methods, configured data sets, metrics, executors, reporters, report views
    and figures, or plugins."""
    from .plugins import list_plugins

    if what == "plugins":
        provided: dict[str, list[str]] = {}
        for kind, reg in (("method", registry.methods), ("adapter", registry.datasets),
                          ("metric", registry.metric_entries), ("executor", registry.executors),
                          ("reporter", registry.reporters), ("view", registry.views),
                          ("figure", registry.figures)):
            for e in reg():
                provided.setdefault(e.plugin, []).append(f"{kind}:{e.name}")
        for info in list_plugins():
            status = (f"FAILED TO LOAD: {info.error}" if info.error
                      else f"hooks: {', '.join(info.hooks)}; registers: {', '.join(provided.get(info.name, [])) or '-'}")
            click.echo(f"{info.name:24s} {info.distribution or '-'} {info.version or ''}  {status}")
        return
    if what == "datasets":
        for spec in load_catalogue().values():
            click.echo(f"{spec.name:12s} adapter={spec.adapter:10s} root={_root_status(spec)}")
        return
    if what == "methods":
        for e in registry.methods():
            cls = e.obj
            click.echo(f"{e.name:18s} {cls.track:12s} {e.distribution or '-'} {e.version or ''}  {cls.description}")
        return
    if what == "metrics":
        for e in registry.metric_entries().in_order():
            spec = e.obj
            flags = [f for f in ("per_defect", "bootstrap", "ranked", "headline", "per_image", "at_threshold")
                     if getattr(spec, f)]
            click.echo(f"{spec.name:19s} {spec.level:5s} {'higher' if spec.higher_is_better else 'lower'} is better  "
                       f"{e.distribution or '-'}  {spec.title}: {spec.definition}"
                       + (f" [{', '.join(flags)}]" if flags else ""))
        click.echo(f"{'au_pro_<L>':19s} pixel higher is better  adbench  AU-PRO@L: AU-PRO to any other FPR limit L "
                   f"(run --au-pro-limit L, or au_pro_limits in datasets.toml; 0.01 → au_pro_001)")
        return
    if what in ("views", "figures"):
        for e in getattr(registry, what)().in_order():
            doc = (e.options.get("caption") or (e.obj.__doc__ or "").strip().split("\n")[0])
            click.echo(f"{e.name:18s} {e.distribution or '-'}  {doc}")
        return
    if what == "executors":
        for e in registry.executors():
            opts = ", ".join(f"{o.name}={o.default!r}" + (f" ({o.flag})" if o.flag else "")
                             for o in getattr(e.obj, "options", ()))
            click.echo(f"{e.name:12s} {e.distribution or '-'}  {getattr(e.obj, 'description', '')}; "
                       f"options: {opts or 'none'}")
        return
    reg = {"adapters": registry.datasets, "reporters": registry.reporters}[what]()
    for e in reg:
        opts = " ".join(f"{k}={v}" for k, v in e.options.items())
        click.echo(f"{e.name:18s} {e.distribution or '-'} {opts}")


def _root_status(spec: DatasetSpec) -> str:
    try:
        return registry.adapter_for(spec).root_status()
    except UnknownNameError:
        return f"(unknown adapter {spec.adapter!r}; see `adbench list adapters`)"


# -- run -------------------------------------------------------------------------------
class _RunCommand(click.Command):
    """``adbench run`` plus the flags that registered executors declare (``ExecutorOption.flag``):
    the CLI adds them without naming any executor (docs/architecture.md, "Executors")."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        return params[:-1] + _executor_flag_options() + params[-1:]  # --help stays last


def _executor_flags() -> dict[str, list[tuple[str, Any]]]:
    """flag → [(executor name, option)], from every registered executor."""
    flags: dict[str, list[tuple[str, Any]]] = {}
    try:
        entries = list(registry.executors())
    except Exception:  # a broken plugin is reported by the command itself, not while building --help
        return {}
    for entry in entries:
        for opt in getattr(entry.obj, "options", ()):
            if opt.flag:
                flags.setdefault(opt.flag, []).append((entry.name, opt))
    return flags


def _flag_dest(flag: str) -> str:
    return "xopt_" + flag.lstrip("-").replace("-", "_")


def _executor_flag_options() -> list[click.Parameter]:
    out: list[click.Parameter] = []
    for flag, owners in _executor_flags().items():
        opt = owners[0][1]
        kind = {int: click.INT, float: click.FLOAT, bool: click.BOOL}.get(opt.type, click.STRING)
        names = ", ".join(name for name, _ in owners)
        extra = [opt.short] if opt.short else []
        out.append(click.Option([flag, *extra, _flag_dest(flag)], type=kind, default=None,
                                help=f"{names} executor: {opt.help}" + (f" [default: {opt.default}]"
                                                                        if opt.default is not None else "")))
    return out


def _selected_flags(executor: str, given: dict[str, Any]) -> dict[str, Any]:
    """The executor flags given on the command line, as the selected executor's options; a flag
    of another executor is an error that says which executor takes it."""
    out: dict[str, Any] = {}
    for flag, owners in _executor_flags().items():
        value = given.get(_flag_dest(flag))
        if value is None:
            continue
        mine = [opt for name, opt in owners if name == executor]
        if not mine:
            raise click.UsageError(f"{flag} is an option of executor {' or '.join(n for n, _ in owners)}, not of "
                                   f"{executor!r}; add --executor {owners[0][0]}")
        out[mine[0].name] = value
    return out


@cli.command(cls=_RunCommand)
@click.argument("methods", nargs=-1, required=True)
@click.option("--dataset", "-d", default="synthetic", show_default=True,
              help="Data set name(s) from datasets.toml, comma-separated, or 'all'.")
@click.option("--category", "-c", default=None, help="Categories, comma-separated (default: all of the data set).")
@click.option("--track", "-t", default=None, type=click.Choice([*TRACKS, "all"]),
              help="Protocol track (default: each method's own).")
@click.option("--profile", "-p", default="quick", show_default=True, type=click.Choice(PROFILES),
              help="smoke: seconds (CI); quick: about a minute per cell on CPU; paper: published settings.")
@click.option("--seed", "-s", default=None, help="Seed(s), comma-separated; one cell per seed  [default: 0].")
@click.option("--seeds", "n_seeds", default=None, type=click.IntRange(min=1),
              help="Run seeds 0..N-1 (one cell each); tables then show mean ± std over seeds.")
@click.option("--k-anomalies", default=5, show_default=True, type=click.IntRange(min=1),
              help="Supervised track: anomalous images per defect type moved into training.")
@click.option("--anomaly-ratio", default=None,
              help="Supervised track: fraction(s) of anomalies moved into training, comma-separated "
                   "(one cell per ratio); overrides --k-anomalies.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a hyper-parameter of the profile (repeatable).")
@click.option("--out", "-o", type=click.Path(path_type=Path), default=None,
              help="Run folder (default: reports/<profile>). Rows go to <out>/cells/.")
@click.option("--force", is_flag=True, help="Recompute cells that already have a successful row.")
@click.option("--eval-resolution", default="native", show_default=True, type=click.Choice(["native", "input"]),
              help="native: pixel metrics on each test image's own ground truth, maps upsampled to it (what the "
                   "MVTec AD evaluation does; every method on the same pixels); input: at the method's input size.")
@click.option("--save-maps", is_flag=True,
              help="Keep every test image's anomaly map at native size (float16 .npz under <out>/maps/).")
@click.option("--validation-fraction", default=None, type=float,
              help="Hold this fraction of train/good out as normal validation images (seeded) where a data set "
                   "declares none; they set the threshold of the operating-point metrics (SegF1, image F1 at the "
                   "validation threshold). Without validation images those metrics are n/a.")
@click.option("--train-shots", default=None, type=int, metavar="K",
              help="Few-shot setting: train on K normal images (a seeded draw, the same for every method).")
@click.option("--train-contamination", "contamination", default=None, type=float, metavar="R",
              help="Noisy-training setting: move anomalous test images into training (a seeded draw) until a "
                   "fraction R of it is anomalous, handed to the method as normal.")
@click.option("--au-pro-limit", "au_pro_limits", default=None, metavar="FPR[,FPR…]",
              help="Also score AU-PRO to these FPR limits (e.g. 0.01,0.1; columns au_pro_001, au_pro_01), beyond "
                   "0.3 (au_pro) and 0.05 (au_pro_005). A data set's au_pro_limits in datasets.toml adds its own.")
@click.option("--device", default="auto", show_default=True, help="cpu, cuda, cuda:N or auto.")
@click.option("--executor", default=None,
              help="Where cells run (default: this machine); `adbench list executors` shows the installed ones "
                   "and their options.")
@click.option("--executor-opt", "executor_opts", multiple=True, metavar="KEY=VALUE",
              help="An option of the selected executor (repeatable), e.g. --executor-opt workers=2.")
@click.option("--executor-config", type=click.Path(path_type=Path, exists=True), default=None,
              help="TOML file with an [executor.<name>] table of options per executor.")
@click.option("--cell-timeout", default=None, type=click.FloatRange(min=0, min_open=True),
              help="Seconds after which a cell is stopped and failed (its time guard).")
@click.option("--shard", default=None, metavar="I/N",
              help="Run only the I-th of N deterministic slices of the cells (1-based), e.g. 2/4.")
@click.option("--datasets", "datasets_file", type=click.Path(path_type=Path), default=None,
              help="Data set catalogue (default: ./datasets.toml).")
def run(methods: tuple[str, ...], dataset: str, category: str | None, track: str | None, profile: str,
        seed: str | None, n_seeds: int | None, k_anomalies: int, anomaly_ratio: str | None, overrides: tuple[str, ...],
        out: Path | None, force: bool, eval_resolution: str, save_maps: bool, validation_fraction: float | None,
        train_shots: int | None, contamination: float | None, au_pro_limits: str | None, device: str,
        executor: str | None,
        executor_opts: tuple[str, ...],
        executor_config: Path | None, cell_timeout: float | None, shard: str | None, datasets_file: Path | None,
        **executor_flags: Any) -> None:
    """Run METHODS (names, or 'all') on a data set and write one result row per cell.

    Finished cells are skipped, so an interrupted run resumes where it stopped. The same run
    from Python: ``adbench.run_benchmark`` (README, "Python API").
    """
    from .executors.base import ExecutorOptionError
    from .protocol.session import (DEFAULT_EXECUTOR, BenchmarkRequest, DeviceUnavailable, RequestError,
                                   run_benchmark)
    from .report.metric_views import summary_display, summary_how
    from .report.rows import fidelity_notes, ok_rows

    executor = executor or DEFAULT_EXECUTOR
    flags = _selected_flags(executor, executor_flags)
    try:
        request = BenchmarkRequest(  # checks itself: device, shard, timeout, resolution
            methods=methods, datasets=_csv(dataset), categories=_csv(category), track=track, profile=profile,
            seeds=_seeds(seed, n_seeds), k_anomalies=k_anomalies, ratios=_ratios(anomaly_ratio),
            overrides=_key_values(overrides, "--set"), out=out, force=force, eval_resolution=eval_resolution,
            save_maps=save_maps, validation_fraction=validation_fraction,
            au_pro_limits=_floats(au_pro_limits, "--au-pro-limit"), train_shots=train_shots,
            contamination=contamination, device=device, executor=executor,
            executor_options=_key_values(executor_opts, "--executor-opt"),
            executor_config=_executor_config(executor_config), cell_timeout=cell_timeout,
            shard=_shard(shard), datasets_file=datasets_file)
        summary = run_benchmark(request, executor_flags=flags,
                                log=lambda msg: click.echo(msg, err=True))
    except DeviceUnavailable as exc:
        _fail(str(exc))
    except RequestError as exc:
        if exc.field in _REQUEST_FLAGS:
            raise click.BadParameter(str(exc), param_hint=_REQUEST_FLAGS[exc.field])
        _fail(str(exc))
    except OverrideError as exc:
        raise click.BadParameter(str(exc), param_hint="--set")
    except ExecutorOptionError as exc:  # raised before any cell is planned or run
        raise click.BadParameter(str(exc), param_hint=_option_hint(executor, exc.option, flags))
    except (UnknownNameError, DatasetError, RequestError, ValueError) as exc:
        _fail(str(exc))
    if summary.interrupted:
        import signal

        from . import interrupts

        signum = interrupts.received_signal()
        done = int((summary.rows["status"] == "ok").sum()) if not summary.rows.empty else 0
        click.echo(f"\ninterrupted by {signal.Signals(signum).name}: {done}/{len(summary.cells)} cells have rows in "
                   f"{summary.out}/cells/; run the same command again to finish the rest", err=True)
        sys.exit(128 + signum)  # 130 for Ctrl-C, 143 for SIGTERM, as a shell reports them
    if summary.rows.empty:
        click.echo(f"no rows in {summary.out / 'cells'}", err=True)
        return
    if not summary.table.empty:
        shown = summary_display(summary.table)
        click.echo(shown.to_markdown(colalign=["left"] + ["right"] * shown.shape[1], disable_numparse=True))
        click.echo(" ".join([summary_how(summary.table), *fidelity_notes(ok_rows(summary.rows))]))
    click.echo(f"\nrows: {summary.out / 'cells'}\ntables: {summary.out / 'tables'} ({len(summary.written)} files)")
    if not summary.failed.empty:
        for _, r in summary.failed.iterrows():
            click.echo(f"FAILED {r['method']} {r['dataset']}/{r['category']}: {r['error']}", err=True)
        sys.exit(1)


def _executor_config(path: Path | None) -> dict[str, Any]:
    """The ``[executor.<name>]`` tables of ``--executor-config``; a syntax error names the file."""
    if path is None:
        return {}
    from .config import tomllib

    try:
        tables = tomllib.loads(path.read_text()).get("executor", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        _fail(f"--executor-config {path}: invalid TOML ({exc}); fix the file and retry")
    if not isinstance(tables, dict) or not all(isinstance(v, dict) for v in tables.values()):
        _fail(f"--executor-config {path}: expected [executor.<name>] tables of KEY = VALUE lines")
    return tables


def _seeds(seed: str | None, n_seeds: int | None) -> list[int]:
    """``--seed 0,1,2`` or ``--seeds 3`` (the same three cells); 0 when neither is given."""
    if seed is not None and n_seeds is not None:
        raise click.UsageError("give --seed LIST or --seeds N, not both")
    if n_seeds is not None:
        return list(range(n_seeds))
    try:
        seeds = [int(s) for s in _csv(seed or "0")]
    except ValueError:
        raise click.BadParameter(f"{seed!r}: expected integers separated by commas, e.g. 0,1,2",
                                 param_hint="--seed")
    if not seeds or min(seeds) < 0:
        raise click.BadParameter(f"{seed!r}: seeds are integers >= 0", param_hint="--seed")
    return list(dict.fromkeys(seeds))


def _ratios(value: str | None) -> list[float]:
    """``--anomaly-ratio``: fractions in (0, 1), comma-separated."""
    out = _floats(value, "--anomaly-ratio", "; give fractions such as 0.01,0.05")
    for item, r in zip(_csv(value), out):
        if not 0 < r < 1:
            raise click.BadParameter(f"{item}: a ratio must lie strictly between 0 and 1 (some anomalies move "
                                     f"into training, some stay for testing)", param_hint="--anomaly-ratio")
    return out


def _floats(text: str | None, flag: str, example: str = "") -> list[float]:
    """Comma-separated numbers (``example`` follows the error for one that is not); the caller
    or the request checks their range."""
    out = []
    for item in _csv(text):
        try:
            out.append(float(item))
        except ValueError:
            raise click.BadParameter(f"{item!r} is not a number{example}", param_hint=flag) from None
    return out


def _shard(shard: str | None) -> tuple[int, int] | None:
    """``I/N`` as numbers; the request checks their range (BenchmarkRequest)."""
    if shard is None:
        return None
    try:
        i, n = (int(v) for v in shard.split("/"))
    except ValueError:
        raise click.BadParameter(f"{shard!r}: expected I/N with 1 <= I <= N, e.g. 1/4", param_hint="--shard")
    return i, n


#: the ``adbench run`` flag of each BenchmarkRequest field whose value can be wrong
_REQUEST_FLAGS = {"device": "--device", "shard": "--shard", "cell_timeout": "--cell-timeout", "out": "--out",
                  "eval_resolution": "--eval-resolution", "validation_fraction": "--validation-fraction",
                  "au_pro_limits": "--au-pro-limit", "train_shots": "--train-shots", "contamination": "--train-contamination"}


def _key_values(items: tuple[str, ...], flag: str) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint=flag)
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _resolve_device(device: str) -> str:
    """``adbench profile``'s device (``adbench run``'s is resolved by its request)."""
    from .protocol.session import DeviceUnavailable, RequestError, resolve_device

    try:
        return resolve_device(device)
    except DeviceUnavailable as exc:
        _fail(str(exc))
        raise  # unreachable: _fail raises
    except RequestError as exc:
        raise click.BadParameter(str(exc), param_hint="--device") from None


def _option_hint(executor: str, option: str | None, flags: dict[str, Any]) -> str:
    """Where a bad executor option came from: its own flag when given there, else --executor-opt."""
    return next((flag for flag, owners in _executor_flags().items()
                 for name, opt in owners if name == executor and opt.name == option and option in flags),
                "--executor-opt")


# -- profile ---------------------------------------------------------------------------
@cli.command()
@click.argument("methods", nargs=-1, required=True)
@click.option("--profile", "-p", "profile_name", default="quick", show_default=True, type=click.Choice(PROFILES),
              help="Whose input size and architecture to profile.")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or cuda:N.")
@click.option("--batch", default="1,8", show_default=True, help="Batch sizes, comma-separated.")
@click.option("--precision", default="fp32", show_default=True, help="fp32, fp16, bf16, comma-separated.")
@click.option("--out", "-o", type=click.Path(path_type=Path), default=None,
              help="Write <out>/costs.csv (one row per method × device × precision × batch).")
@click.option("--no-cache", is_flag=True, help="Measure again even when a cached profile exists.")
@click.option("--input-size", type=click.IntRange(min=8), default=None,
              help="Profile every method at this input size (px) instead of its profile's, so costs compare at "
                   "one size (the seed paper's figures 5 and 6 do); a method that cannot run at it gets an error row.")
@click.option("--memory-batch", type=click.IntRange(min=1), default=None,
              help="Measure training memory at this batch for every method instead of each one's training batch.")
def profile(methods: tuple[str, ...], profile_name: str, device: str, batch: str, precision: str,
            out: Path | None, no_cache: bool, input_size: int | None, memory_batch: int | None) -> None:
    """Parameters, FLOPs (fvcore), latency, memory and ONNX size of METHODS' whole inference
    pipelines, without any data set. On a GPU machine: adbench profile all --device cuda.
    Compare at one input size with --input-size N (and --memory-batch B), then
    `adbench report RUN --costs DIR`."""
    import time

    from tqdm import tqdm

    from .costs.table import failed_profile, profile_table
    from .protocol.plan import resolve_methods

    try:
        names = resolve_methods(methods)
    except UnknownNameError as exc:
        _fail(str(exc))
    if device != "cpu":
        device = _resolve_device(device)
    bad = [p for p in _csv(precision) if p not in ("fp32", "fp16", "bf16")]
    if bad:
        _fail(f"--precision: unknown {bad}; use fp32, fp16, bf16")
    from .costs import measure_method

    results = []
    start = time.perf_counter()
    for name in tqdm(names, unit="method", file=sys.stderr):
        cls = registry.methods().get(name).obj
        try:
            cfg = cls.config_for(profile_name, {"image_size": input_size} if input_size else None)
            results.append(measure_method(cls, cfg, device=device, batches=[int(b) for b in _csv(batch)],
                                          precisions=_csv(precision), use_cache=not no_cache, profile=profile_name,
                                          train_batch=memory_batch))
        except Exception as exc:  # one method that cannot run at this size must not cost the others theirs
            if input_size is None:
                raise
            reason = f"cannot be profiled at {input_size} px: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            click.echo(f"{name} {reason}", err=True)
            results.append(failed_profile(name, input_size, device, reason))
    table = profile_table(results)
    shown = [c for c in ("method", "device", "precision", "batch", "params_inference", "gmacs", "latency_ms",
                         "latency_iqr_ms", "latency_reps", "latency_noisy", "forward_mb", "backward_mb",
                         "onnx_size_mb", "status") if c in table]
    click.echo(table[shown].to_markdown(floatfmt=".3f", missingval="–"))
    click.echo(f"threads: {', '.join(map(str, sorted(set(table['costs_torch_threads'].dropna()))))}; CPU: "
               f"{', '.join(sorted(set(table['costs_cpu_model'].dropna())))}; all columns in costs.csv (--out)",
               err=True)
    click.echo(f"profiled {len(names)} methods in {time.perf_counter() - start:.1f} s", err=True)
    if out is not None:
        write_text_atomic(out / "costs.csv", table.to_csv(index=False))
        click.echo(f"wrote {out / 'costs.csv'}")


# -- report ----------------------------------------------------------------------------
REPORT_FORMATS = ("csv", "md", "tex", "fig", "png", "pdf", "html")


@cli.command()
@click.argument("run_dirs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", "-o", type=click.Path(path_type=Path), default=None,
              help="Output folder (default: <first run folder>/tables).")
@click.option("--format", "formats", default="csv,md,tex,html", show_default=True,
              help="Comma-separated: csv, md, tex (tables), fig (figures only), html (figures + index.html).")
@click.option("--costs", "costs_dir", type=click.Path(path_type=Path), default=None,
              help="Take the cost figures from an `adbench profile --out DIR` folder (its costs.csv, measured "
                   "in one quiet process) instead of the rows; captions say which was used.")
@click.option("--transpose", is_flag=True, default=False,
              help="LaTeX metric tables with categories as rows and methods as columns (default: methods as rows).")
def report(run_dirs: tuple[Path, ...], out: Path | None, formats: str, costs_dir: Path | None,
           transpose: bool) -> None:
    """Build tables, figures and a self-contained index.html from the result rows of
    RUN_DIRS (default: reports/quick). Several folders (e.g. from several machines or
    shards) are merged."""
    from .report.build import build_report
    from .report.costs import CostsFileError

    unknown = [f for f in _csv(formats) if f not in REPORT_FORMATS]
    if unknown or not _csv(formats):
        raise click.BadParameter(f"{formats!r}: unknown {', '.join(unknown) or 'empty list'}; choose from "
                                 f"{', '.join(REPORT_FORMATS)}", param_hint="--format")
    dirs = list(run_dirs) or [Path("reports") / "quick"]
    target = out or dirs[0] / "tables"
    from .io import unwritable_folder

    why = unwritable_folder(target)
    if why:
        _fail(f"--out: {why}; pass a folder you can write (it is created if missing)")
    try:
        written = build_report(dirs, target, tuple(_csv(formats)), costs_dir=costs_dir, transpose=transpose)
    except (FileNotFoundError, CostsFileError) as exc:
        _fail(str(exc))
    for path in written:
        click.echo(str(path))


# -- data ------------------------------------------------------------------------------
@cli.group()
def data() -> None:
    """Inspect and validate data sets."""


@data.command("check")
@click.argument("name")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--datasets", "datasets_file", type=click.Path(path_type=Path), default=None)
def data_check(name: str, strict: bool, datasets_file: Path | None) -> None:
    """Validate data set NAME before a long run: counts per split and defect type, and
    every problem with its file path."""
    from collections import Counter

    from tqdm import tqdm

    try:
        adapter = registry.adapter_for(dataset_spec(load_catalogue(datasets_file), name))
        adapter.root()
    except (DatasetNotConfigured, DatasetError, UnknownNameError) as exc:
        _fail(str(exc))
    errors = warnings = 0
    for category in tqdm(adapter.categories(), unit="category", file=sys.stderr, leave=False):
        problems = adapter.check(category)
        try:
            train, _ = adapter.scan(category, "train")
            test, _ = adapter.scan(category, "test")
            counts = Counter(s.defect_type for s in test)
            click.echo(f"{category}: train {len(train)}, test {len(test)} "
                       f"({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})")
        except DatasetError as exc:
            click.echo(f"{category}: unreadable ({exc})")
        for p in problems:
            click.echo(f"  {p}")
            errors += p.level == "error"
            warnings += p.level == "warning"
    click.echo(f"{errors} errors, {warnings} warnings")
    if errors or (strict and warnings):
        sys.exit(1)


@data.command("download")
@click.argument("name")
@click.option("--to", "target", type=click.Path(path_type=Path), required=True, help="Folder to extract into.")
@click.option("--url", default=None, help="Override the catalogue's URL (e.g. a local mirror or file:// path).")
@click.option("--sha256", default=None, help="Expected sha256 of the archive (overrides the catalogue's).")
@click.option("--no-verify", is_flag=True, help="Skip checksum verification (not recommended).")
@click.option("--datasets", "datasets_file", type=click.Path(path_type=Path), default=None)
def data_download(name: str, target: Path, url: str | None, sha256: str | None, no_verify: bool,
                  datasets_file: Path | None) -> None:
    """Download data set NAME's public archive, verify its checksum and extract it safely
    into --to; then point datasets.toml (or the root's environment variable) at it."""
    from tqdm import tqdm

    from .data.download import download

    try:
        spec = dataset_spec(load_catalogue(datasets_file), name)
    except DatasetError as exc:
        _fail(str(exc))
    url = url or spec.url
    if not url:
        _fail(f"no download URL is known for {name!r}; add url = \"...\" to its table in datasets.toml or "
              f"pass --url")
    bar = tqdm(unit="B", unit_scale=True, file=sys.stderr, desc=name)

    def progress(done: int, total: int | None) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        download(url, sha256 or spec.sha256, target, md5=None if sha256 else spec.md5, verify=not no_verify,
                 progress=progress)
    except DatasetError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"download of {url} failed: {exc}")
    finally:
        bar.close()
    click.echo(f"extracted into {target}; set root = \"{target}\" in [{name}] of datasets.toml "
               f"(or the environment variable it names) and run `adbench data check {name}`")


# -- weights ---------------------------------------------------------------------------
@cli.group()
def weights() -> None:
    """Published pretrained weights: what each profile needs, and fetching them."""


def _needed_weights(methods: tuple[str, ...], profile: str) -> dict[str, tuple[Any, list[str]]]:
    """Weights name → (Weights, the methods whose ``profile`` loads it), for METHODS or all."""
    available = registry.methods()
    names = sorted(available.names()) if not methods or "all" in methods else list(methods)
    unknown = [n for n in names if n not in available]
    if unknown:
        _fail(f"unknown method {unknown[0]!r}; installed: {', '.join(sorted(available.names()))}")
    needed: dict[str, tuple[Any, list[str]]] = {}
    for name in names:
        cls = available.get(name).obj
        if profile not in cls.profiles:
            continue
        for w in cls.required_weights(cls.config_for(profile)):
            needed.setdefault(w.name, (w, []))[1].append(name)
    return needed


@weights.command("list")
@click.argument("methods", nargs=-1)
@click.option("--profile", "-p", default="paper", show_default=True, type=click.Choice(PROFILES))
def weights_list(methods: tuple[str, ...], profile: str) -> None:
    """The weights files that METHODS (default: all) load at --profile, and whether each is
    in the local cache (with its sha256). Reads only the caches."""
    from .weights import sha256_of

    needed = _needed_weights(methods, profile)
    if not needed:
        click.echo(f"no method selected loads pretrained weights at profile {profile!r}")
        return
    missing = 0
    for name, (w, users) in needed.items():
        path = w.cached()
        state = f"cached {path} sha256 {sha256_of(path)}" if path else f"MISSING (expected at {w.location()})"
        missing += path is None
        click.echo(f"{name}  [{', '.join(users)}]\n  {state}")
    if missing:
        click.echo(f"{missing} missing: `adbench weights download {' '.join(methods) or 'all'} --profile {profile}` "
                   f"on a machine with internet, or run with `--set pretrained=false`")


@weights.command("download")
@click.argument("methods", nargs=-1)
@click.option("--profile", "-p", default="paper", show_default=True, type=click.Choice(PROFILES))
def weights_download(methods: tuple[str, ...], profile: str) -> None:
    """Fetch the weights METHODS (default: all) load at --profile into the libraries' own
    caches (torch hub, Hugging Face hub), through torchvision's and smp's weight APIs. The
    only adbench command that reaches the network for weights."""
    from .weights import sha256_of

    for name, (w, _users) in _needed_weights(methods, profile).items():
        path = w.cached()
        if path is None:
            try:
                path = w.download()
            except Exception as exc:  # network, proxy, disk: one line, what failed and where it goes
                _fail(f"could not download {name} ({exc}); fetch it elsewhere and copy it to {w.location()}")
        click.echo(f"{name}: {path} sha256 {sha256_of(path)}")


@cli.command("new-plugin")
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=Path("."), show_default=True,
              help="Where to create adbench-<name>/.")
def new_plugin_cmd(name: str, directory: Path) -> None:
    """Write a new method plugin package (entry point, method, contract test) whose tests pass
    as generated. Then: pip install -e adbench-<name> && pytest adbench-<name>/tests"""
    from .scaffold import new_plugin

    try:
        root = new_plugin(name, directory)
    except (ValueError, FileExistsError) as exc:
        _fail(str(exc))
    click.echo(f"created {root}\nnext: pip install -e {root} && adbench list methods && pytest {root / 'tests'}")


def main() -> Any:  # pragma: no cover
    return cli()
