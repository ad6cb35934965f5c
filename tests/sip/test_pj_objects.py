"""The media thread's copy of a frame: read from pjsua2's C++ buffer directly (SWIG's
element-by-element copy cost a CPU-second per call-minute), byte for byte what SWIG gives."""

import os

import pjsua2 as pj

from engine.sip.pj_objects import vector_bytes


def test_a_frames_bytes_are_copied_whole_and_unchanged():
    for size in (0, 1, 320, 640, 4096):
        data = os.urandom(size)
        vec = pj.ByteVector(data)
        assert vector_bytes(vec) == data == bytes(vec)


def test_a_vector_that_grew_is_read_from_where_its_bytes_now_are():
    vec = pj.ByteVector(b"\x01\x02")
    for _ in range(2000):  # reallocates several times
        vec.push_back(7)
    assert vector_bytes(vec) == b"\x01\x02" + b"\x07" * 2000
