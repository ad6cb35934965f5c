"""Line-quality windows from a call's cumulative receive counters."""

from __future__ import annotations

from engine.sip.line_quality import LineQuality, grade


def test_each_window_reports_its_own_loss_so_a_line_that_recovers_reads_good() -> None:
    q = LineQuality(window_s=5.0)
    assert q.update(0.0, 0, 0, 0.0) is None  # the first reading only starts the window
    assert q.update(4.5, 200, 20, 5.0) is None  # not a window yet
    bad = q.update(5.0, 225, 25, 5.0)  # 250 expected, 25 lost
    assert bad is not None and bad["loss_pct"] == 10.0 and bad["grade"] == "poor"
    good = q.update(10.0, 475, 25, 5.0)  # 250 more, none lost
    assert good is not None and good["loss_pct"] == 0.0 and good["grade"] == "good"
    assert good["rx_packets"] == 475 and good["rx_lost"] == 25


def test_a_paused_stream_says_nothing_and_jitter_alone_can_make_a_line_poor() -> None:
    q = LineQuality(window_s=5.0)
    q.update(0.0, 100, 0, 0.0)
    assert q.update(5.0, 110, 0, 0.0) is None  # 10 packets in 5 s: silence suppression
    jittery = q.update(10.0, 360, 0, 75.0)
    assert jittery is not None and jittery["grade"] == "poor" and jittery["loss_pct"] == 0.0
    assert grade(2.0, 10.0) == "fair" and grade(0.5, 40.0) == "fair" and grade(0.5, 5.0) == "good"


def test_counters_that_restart_start_a_new_window() -> None:
    q = LineQuality(window_s=5.0)
    q.update(0.0, 500, 10, 0.0)
    assert q.update(5.0, 20, 0, 0.0) is None  # a re-INVITE made a new stream: no negative loss
    report = q.update(10.0, 270, 0, 0.0)
    assert report is not None and report["loss_pct"] == 0.0
