"""Plugins' background workers (``register_workers``): started with the kernel's
own workers, stopped in reverse when it closes, a failing one skipped."""

from __future__ import annotations

import logging

from guidepath.core.plugins import PluginInfo, hookimpl
from guidepath.core.testing.kernels import test_kernel


class Worker:
    def __init__(self, name: str, log: list[str], *, fail_start: bool = False) -> None:
        self.name, self.log, self.fail_start = name, log, fail_start

    def start(self) -> None:
        if self.fail_start:
            raise RuntimeError("cannot start")
        self.log.append(f"start {self.name}")

    def stop(self) -> None:
        self.log.append(f"stop {self.name}")


def workers_plugin(name: str, workers: list[Worker]) -> object:
    class Plugin:
        PLUGIN = PluginInfo(name=name)

        @hookimpl
        def register_workers(self, kernel):
            return workers

    return Plugin()


def test_workers_start_with_the_kernel_and_stop_in_reverse_before_it_closes(tmp_path, caplog):
    log: list[str] = []
    with test_kernel("embedded", tmp_path) as kernel:
        kernel.plugins.register(workers_plugin("first", [Worker("a", log), Worker("b", log)]))
        kernel.plugins.register(workers_plugin("broken", [Worker("bad", log, fail_start=True)]))
        with caplog.at_level(logging.ERROR):
            kernel.start_workers()
            kernel.start_workers()  # idempotent: nothing starts twice
        assert log == ["start a", "start b"]
        assert any(getattr(r, "plugin", None) == "broken" for r in caplog.records)
    assert log[2:] == ["stop b", "stop a"]


def test_one_off_commands_start_no_workers(tmp_path):
    log: list[str] = []
    with test_kernel("embedded", tmp_path) as kernel:
        kernel.plugins.register(workers_plugin("first", [Worker("a", log)]))
    assert log == []
