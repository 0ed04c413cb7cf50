"""The smaller commands: init, config schema, plugins, simulate."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from bidopt.cli import cli
from bidopt.config import load_config
from conftest import NIGHT, report_paths


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_init_writes_a_commented_config_that_runs_on_given_exports(shop_files, tmp_path):
    target = tmp_path / "bidopt.yaml"
    args = ["init", "--roi-floor", "2.5", "--budget", "800", "--out", str(target)]
    for path in report_paths(shop_files):
        args += ["--reports", path]
    args += ["--items", str(shop_files["items"]), "--candidates", str(shop_files["candidates"])]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert text.count("#") > 10, "the starter config explains itself"
    config = load_config(target)
    assert config.constraints.roi_floor == 2.5 and config.constraints.daily_budget == 800
    assert len(config.sources.reports) == 4
    # every built-in strategy is on: the optimiser judges their proposals anyway
    assert {"roi_rule", "long_tail", "top3_quality", "region_exclusion", "crowd_premium",
            "pc_floor"} <= set(config.strategies)
    run = invoke("run", "--config", str(target), "--date", NIGHT, "--dry-run")
    assert run.exit_code == 0, run.output


def test_init_prompts_for_the_two_numbers(tmp_path):
    target = tmp_path / "bidopt.yaml"
    result = invoke("init", "--out", str(target), input="3\n500\n")
    assert result.exit_code == 0, result.output
    config = load_config(target)
    assert (config.constraints.roi_floor, config.constraints.daily_budget) == (3.0, 500.0)


def test_init_refuses_to_overwrite(tmp_path):
    target = tmp_path / "bidopt.yaml"
    target.write_text("keep me", encoding="utf-8")
    result = invoke("init", "--roi-floor", "2", "--budget", "0", "--out", str(target))
    assert result.exit_code == 7 and "--force" in result.output  # as README's exit codes say
    assert target.read_text(encoding="utf-8") == "keep me"


def test_init_refuses_exports_that_do_not_exist(tmp_path):
    target = tmp_path / "bidopt.yaml"
    result = invoke("init", "--roi-floor", "2", "--budget", "0", "--out", str(target),
                    "--reports", str(tmp_path / "kw*.csv"))
    assert result.exit_code == 2 and "no such file" in result.output and "kw*.csv" in result.output
    assert not target.exists()


def test_init_keeps_a_report_pattern_that_matches_exports(shop_files, tmp_path):
    """A nightly folder of daily exports: the pattern goes into the config as written."""
    folder = shop_files["keyword_report"].parent
    target = tmp_path / "bidopt.yaml"
    result = invoke("init", "--roi-floor", "2", "--budget", "0", "--out", str(target),
                    "--reports", str(folder / "*_report.csv"))
    assert result.exit_code == 0, result.output
    config = load_config(target)
    written = [config.resolve(p).resolve() for p in config.sources.reports]
    assert written == [(folder / "*_report.csv").resolve()]


def test_config_schema_is_json():
    result = invoke("config", "schema")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert "constraints" in schema["properties"]


def test_config_schema_describes_every_strategy_s_options():
    """An editor completing `strategies: {roi_rule: {...}}` knows its options and their
    bounds, as it knows the rest of the config."""
    text = invoke("config", "schema").output
    schema = json.loads(text)
    options = schema["properties"]["strategies"]["properties"]
    assert {"roi_rule", "long_tail", "crowd_premium", "top3_quality"} <= set(options)
    ref = options["roi_rule"]["anyOf"][0]["$ref"].rsplit("/", 1)[1]
    roi_rule = schema["$defs"][ref]
    assert {"target_roi", "max_change_pct", "min_clicks"} <= set(roi_rule["properties"])
    assert roi_rule["additionalProperties"] is False, "a misspelt option is flagged"
    assert options["roi_rule"]["description"].startswith("Move each bid toward")
    # every reference resolves
    assert set(re.findall(r'"#/\$defs/([^"]+)"', text)) <= set(schema["$defs"])


def test_plugins_lists_builtins_with_hooks():
    result = invoke("plugins")
    assert result.exit_code == 0
    assert "bidopt.strategies.roi_rule" in result.output and "built-in" in result.output
    assert "bidopt_register_strategies" in result.output
    assert "strategy roi_rule: Move each bid toward the target ROI" in result.output
    listed = json.loads(invoke("plugins", "--json").output)
    assert any(p["strategies"] == ["roi_rule"] for p in listed)


def test_python_m_bidopt_is_the_bidopt_command():
    """``python -m bidopt`` for a scheduled task whose PATH lacks the scripts folder."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "bidopt", "plugins", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert any(p["strategies"] == ["roi_rule"] for p in json.loads(done.stdout))
    usage = subprocess.run([sys.executable, "-m", "bidopt", "run", "--no-such-option"],
                           capture_output=True, text=True, timeout=120)
    assert usage.returncode == 2 and "Usage: bidopt run" in usage.stderr


def test_simulate_writes_english_and_chinese_shops(tmp_path):
    english = tmp_path / "en"
    result = invoke("simulate", "--out", str(english), "--seed", "5", "--days", "3")
    assert result.exit_code == 0, result.output
    report = pd.read_csv(english / "keyword_report.csv")
    assert {"date", "keyword", "bid", "clicks"} <= set(report.columns)
    assert report["date"].nunique() == 3
    chinese = tmp_path / "zh"
    result = invoke("simulate", "--out", str(chinese), "--seed", "5", "--days", "3", "--chinese")
    assert result.exit_code == 0, result.output
    zh = pd.read_csv(chinese / "keyword_report.csv", encoding="gbk")
    assert {"日期", "关键词", "点击量", "花费"} <= set(zh.columns)
    assert len(zh) == len(report)


def test_simulate_keeps_a_shop_already_there_unless_forced(tmp_path):
    folder = tmp_path / "shop"
    folder.mkdir()
    mine = folder / "keyword_report.csv"
    mine.write_text("keep me", encoding="utf-8")
    result = invoke("simulate", "--out", str(folder), "--days", "2")
    assert result.exit_code == 7 and "--force" in result.output
    assert mine.read_text(encoding="utf-8") == "keep me"
    assert invoke("simulate", "--out", str(folder), "--days", "2", "--force").exit_code == 0
    assert mine.read_text(encoding="utf-8") != "keep me"
    assert not list(folder.glob(".*.tmp"))
    for bad in (["--days", "0"], ["--seed", "-1"]):
        assert invoke("simulate", "--out", str(tmp_path / "x"), *bad).exit_code == 2


def test_simulate_can_write_a_history_with_double_11(tmp_path):
    flat, seasonal = tmp_path / "flat", tmp_path / "seasonal"
    for folder, extra in ((flat, []), (seasonal, ["--seasonal"])):
        result = invoke("simulate", "--out", str(folder), "--days", "3",
                        "--end-date", "2026-11-12", *extra)
        assert result.exit_code == 0, result.output
    clicks = {f.name: pd.read_csv(f / "keyword_report.csv").groupby("date")["clicks"].sum()
              for f in (flat, seasonal)}
    assert clicks["seasonal"]["2026-11-11"] > 1.5 * clicks["flat"]["2026-11-11"]


def test_init_writes_paths_yaml_would_misread_as_strings(shop_files, tmp_path):
    """A pattern starting with '*' is a YAML alias and ' #' starts a comment, unquoted."""
    folder = tmp_path / "exports #1"
    folder.mkdir()
    for name in ("keyword_report", "items"):
        (folder / shop_files[name].name).write_bytes(shop_files[name].read_bytes())
    target = folder / "bidopt.yaml"
    result = invoke("init", "--roi-floor", "2", "--budget", "0", "--out", str(target),
                    "--reports", str(folder / "*_report.csv"),
                    "--items", str(folder / shop_files["items"].name))
    assert result.exit_code == 0, result.output
    config = load_config(target)
    assert [str(p) for p in config.sources.reports] == ["*_report.csv"]
    assert config.resolve(config.sources.items) == folder / shop_files["items"].name


def test_init_without_a_terminal_names_the_options_it_needs(tmp_path):
    """A script or cron job (stdin at its end): a usage error (2) that says which options to
    give, not "Aborted!" with exit 1."""
    target = tmp_path / "bidopt.yaml"
    result = CliRunner().invoke(cli, ["init", "--out", str(target)], input="")
    assert result.exit_code == 2, result.output
    assert "--roi-floor" in result.output and "--budget" in result.output
    assert not target.exists()
    # one answer given, the other missing
    result = CliRunner().invoke(cli, ["init", "--roi-floor", "2", "--out", str(target)], input="")
    assert result.exit_code == 2 and "--budget" in result.output


def test_init_writes_into_a_new_folder_and_refuses_a_folder(shop_files, tmp_path):
    """One config per shop (``--out clients/acme/bidopt.yaml``): the folder is made, and the
    config's paths are relative to it; an existing folder as --out is a clear error, not a
    traceback."""
    target = tmp_path / "clients" / "acme" / "bidopt.yaml"
    result = invoke("init", "--roi-floor", "2", "--budget", "0", "--out", str(target),
                    "--reports", str(shop_files["keyword_report"]),
                    "--items", str(shop_files["items"]))
    assert result.exit_code == 0, result.output
    config = load_config(target)
    assert config.resolve(Path(config.sources.items)).resolve() == shop_files["items"].resolve()
    for force in ([], ["--force"]):
        result = CliRunner().invoke(cli, ["init", "--roi-floor", "2", "--budget", "0",
                                          "--out", str(tmp_path / "clients"), *force])
        assert result.exit_code == 2 and "is a folder" in result.output, result.output


def test_init_with_items_but_no_reports_writes_a_config_that_loads(shop_files, tmp_path):
    """``--items`` alone once wrote ``reports:`` with nothing under it (null), a config error
    on the first run; the reports list is empty instead, and validate asks for reports."""
    target = tmp_path / "bidopt.yaml"
    result = invoke("init", "--roi-floor", "2", "--budget", "0", "--out", str(target),
                    "--items", str(shop_files["items"]))
    assert result.exit_code == 0, result.output
    config = load_config(target)
    assert config.sources.reports == [] and config.sources.items
    check = CliRunner().invoke(cli, ["validate", "--config", str(target)])
    assert check.exit_code == 3 and "no report files given" in check.output, check.output


def test_init_configs_of_several_shops_in_one_folder_write_apart(shop_files, tmp_path):
    """An agency's configs side by side (shops/acme.yaml, shops/店铺二.yaml): each is named
    after its file and writes its own plan; a shared recommendations-{date}.csv let the last
    shop's run replace the others' without a word."""
    paths = []
    for name in ("acme.yaml", "店铺 二.yaml"):
        target = tmp_path / "shops" / name
        result = invoke("init", "--roi-floor", "2", "--budget", "0", "--out", str(target),
                        "--reports", str(shop_files["keyword_report"]))
        assert result.exit_code == 0, result.output
        config = load_config(target)
        assert config.shop == target.stem
        assert f"--config {name}" in target.read_text(encoding="utf-8")
        run = invoke("run", "--config", str(target), "--date", NIGHT, "-q")
        assert run.exit_code == 0, run.output
        paths.append(run.stdout.strip())  # -q: the path on stdout, warnings on stderr
    assert paths[0] != paths[1]
    assert all(Path(p).exists() and Path(p).parent == tmp_path / "shops" for p in paths)
    # the single config of a folder keeps the documented name
    target = tmp_path / "one" / "bidopt.yaml"
    assert invoke("init", "--roi-floor", "2", "--budget", "0", "--out", str(target)).exit_code == 0
    assert load_config(target).output.path == "recommendations-{date}.csv"


def test_the_next_commands_printed_can_be_pasted_for_folders_with_spaces(tmp_path):
    """simulate's and init's "next:" lines quote their paths: a client folder such as
    "客户 A/it's new" was printed bare and split into several arguments by the shell."""
    import shlex

    folder = tmp_path / "客户 A" / "it's new"
    result = invoke("simulate", "--out", str(folder), "--days", "2")
    assert result.exit_code == 0, result.output
    args = shlex.split(result.output.splitlines()[-1])
    assert args[:2] == ["bidopt", "init"]
    target = folder / "shop.yaml"
    result = invoke(*args[1:], "--roi-floor", "2", "--budget", "0", "--out", str(target))
    assert result.exit_code == 0, result.output
    assert shlex.split(result.output.split("next: ")[1]) == [
        "bidopt", "validate", "--config", str(target)]
    assert len(load_config(target).sources.reports) == 1


def test_a_report_pattern_that_also_takes_the_items_and_candidates_is_named(shop_files,
                                                                            tmp_path):
    """``shop/*.csv`` takes items.csv and candidates.csv as reports too: each then failed
    with seven 'required column is missing' lines that did not say why. init refuses the
    pattern, and a run on a config that has it stops with one line per file (exit 3)."""
    folder = shop_files["items"].parent
    pattern = str(folder / "*.csv")
    common = ["--items", str(shop_files["items"]), "--candidates", str(shop_files["candidates"])]
    target = tmp_path / "shop.yaml"
    result = invoke("init", "--roi-floor", "2", "--budget", "0", "--out", str(target),
                    "--reports", pattern, *common)
    assert result.exit_code == 2 and not target.exists()
    message = " ".join(result.output.split())
    assert (f"the pattern also matches {shop_files['candidates']} (the candidates file) and "
            f"{shop_files['items']} (the items file): name the reports only") in message

    result = invoke("init", "--roi-floor", "2", "--budget", "0", "--out", str(target),
                    "--reports", str(folder / "*_report.csv"), *common)
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8").replace("*_report.csv", "*.csv")
    target.write_text(text, encoding="utf-8")
    result = invoke("run", "--config", str(target), "--date", NIGHT, "--dry-run")
    assert result.exit_code == 3, result.output
    lines = [line for line in result.output.splitlines() if "matched as a report" in line]
    assert len(lines) == 2 and "required column" not in result.output
    assert any(f"{shop_files['items']}: matched as a report, but it is the items file" in line
               for line in lines)


def test_every_command_s_help_lists_its_exit_codes():
    """A script around a nightly job branches on the exit code: every command says its own."""
    from bidopt.cli import config_group

    commands = [(name, command) for name, command in cli.commands.items() if name != "config"]
    commands += [(f"config {name}", command) for name, command in config_group.commands.items()]
    for name, _ in commands:
        text = invoke(*name.split(), "--help").output
        assert "Exit codes:" in text and "  0  success" in text, name
    assert "  7  the config exists (use --force)" in invoke("init", "--help").output
    assert "  5  a plugin failed to load" in invoke("plugins", "--help").output


def test_bids_mobile_holds_for_reports_without_a_device_split(shop_files, tmp_path):
    """Google Ads and Amazon reports have no device column (platform 'all'): their bids take
    bids.mobile's bounds, which the starter config and the README now say (an Amazon seller
    looked for a rule of their own and found mobile and pc only)."""
    report = pd.read_csv(shop_files["keyword_report"])
    keys = ["date", "campaign", "item", "keyword"]
    amazon = report.groupby(keys, as_index=False)[["impressions", "clicks", "cost", "orders",
                                                   "gmv"]].sum()
    amazon.to_csv(tmp_path / "targeting.csv", index=False)
    config = tmp_path / "shop.yaml"
    result = invoke("init", "--roi-floor", "2", "--budget", "0", "--out", str(config),
                    "--reports", str(tmp_path / "targeting.csv"))
    assert result.exit_code == 0, result.output
    text = config.read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.strip().startswith("mobile:"))
    assert "without a device split (Google Ads, Amazon)" in line
    config.write_text(text.replace("mobile: {min: 0.05", "mobile: {min: 0.9"), encoding="utf-8")
    out = tmp_path / "plan.csv"
    result = invoke("run", "--config", str(config), "--date", NIGHT, "--out", str(out), "-q")
    assert result.exit_code == 0, result.output
    plan = pd.read_csv(out, encoding="utf-8-sig")
    bids = plan[plan["action"] == "set_bid"]
    assert len(bids) and set(bids["platform"]) == {"all"} and bids["proposed"].min() >= 0.9


def test_config_schema_says_what_a_campaign_s_null_budget_means():
    """A campaign's `daily_budget: null` takes the shop default (it does not lift the
    budget, as null does at the top level): the schema an editor shows says so."""
    from bidopt.config import parse_config

    schema = json.loads(invoke("config", "schema").output)
    described = schema["$defs"]["CampaignLimits"]["properties"]["daily_budget"]["description"]
    config = parse_config({"constraints": {"roi_floor": 2.0, "daily_budget": 1500,
                                           "campaigns": {"A": {"daily_budget": None}}}})
    assert config.constraints.for_campaign("A") == (2.0, 1500)
    assert "null = none" not in described and "shop default" in described, described


def test_simulate_can_write_a_history_capped_by_a_daily_budget(tmp_path):
    folder = tmp_path / "capped"
    result = invoke("simulate", "--out", str(folder), "--days", "4", "--budget", "300")
    assert result.exit_code == 0, result.output
    report = pd.read_csv(folder / "keyword_report.csv", encoding="utf-8-sig")
    daily = report.groupby(["campaign", "date"])["cost"].sum()
    assert daily.max() <= 300.1 and (daily >= 291).sum() >= 3
    assert f"{int((daily >= 291).sum())} of {len(daily)} campaign-days" in result.output
