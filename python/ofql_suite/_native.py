"""ctypes bindings of libofqlsuite's C ABI (Sources/OFQLSuiteC/include/ofqlsuite.h).

Every call that can fail returns a status and a message in an error buffer; `check` turns a
failure into a Python exception carrying that message."""
import ctypes
import os
from pathlib import Path

_path = Path(__file__).resolve().parent / "libofqlsuite.so"
if not _path.exists():
    raise ImportError(f"{_path} is missing: install the package with `pip install ./python` from the repository root")
# Loaded with local symbol scope, so its HDF5 stays out of h5py's way. Inside its own scope the
# library comes before libbox2d, so its no-op Box2D profiler timers still replace libbox2d's (as
# in the ofql-eval executable; the env speed check in python/tests measures it). The library
# links no OpenBLAS, so no OpenBLAS kernel choice (OPENBLAS_CORETYPE) is needed here.
lib = ctypes.CDLL(str(_path), mode=os.RTLD_NOW)

_f32 = ctypes.POINTER(ctypes.c_float)
_u8 = ctypes.POINTER(ctypes.c_uint8)
_i32 = ctypes.POINTER(ctypes.c_int32)
_err = (ctypes.c_char_p, ctypes.c_int32)

lib.ofs_version.restype = ctypes.c_char_p
lib.ofs_env_count.restype = ctypes.c_int32
lib.ofs_env_id.restype = ctypes.c_char_p
lib.ofs_env_id.argtypes = [ctypes.c_int32]
lib.ofs_env_info.restype = ctypes.c_int32
lib.ofs_env_info.argtypes = [ctypes.c_char_p, _i32, _i32, _i32, _i32, _f32, _f32, *_err]
lib.ofs_env_reference.restype = ctypes.c_int32
lib.ofs_env_reference.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_double), *_err]
lib.ofs_env_create.restype = ctypes.c_void_p
lib.ofs_env_create.argtypes = [ctypes.c_char_p, *_err]
lib.ofs_env_reset.restype = ctypes.c_int32
lib.ofs_env_reset.argtypes = [ctypes.c_void_p, ctypes.c_uint64, _f32, *_err]
lib.ofs_env_step.restype = ctypes.c_int32
lib.ofs_env_step.argtypes = [ctypes.c_void_p, _f32, _f32, _f32, _u8, _u8, *_err]
lib.ofs_env_close.argtypes = [ctypes.c_void_p]
lib.ofs_vec_create.restype = ctypes.c_void_p
lib.ofs_vec_create.argtypes = [ctypes.c_char_p, ctypes.c_int32, ctypes.c_int32, *_err]
lib.ofs_vec_reset.restype = ctypes.c_int32
lib.ofs_vec_reset.argtypes = [ctypes.c_void_p, ctypes.c_uint64, _f32, *_err]
lib.ofs_vec_step.restype = ctypes.c_int32
lib.ofs_vec_step.argtypes = [ctypes.c_void_p, _f32, _f32, _f32, _u8, _u8, *_err]
lib.ofs_vec_close.argtypes = [ctypes.c_void_p]
lib.ofs_box2d_profiler_disabled.restype = ctypes.c_int32
lib.ofs_dataset_verify.restype = ctypes.c_int32
lib.ofs_dataset_verify.argtypes = [ctypes.c_char_p, ctypes.c_char_p, *_err]

ERRLEN = 4096


def error_buffer():
    return ctypes.create_string_buffer(ERRLEN)


def message(buf):
    return buf.value.decode("utf-8", "replace")


def f32(a):
    return a.ctypes.data_as(_f32)


def u8(a):
    return a.ctypes.data_as(_u8)


def env_ids():
    return [lib.ofs_env_id(i).decode() for i in range(lib.ofs_env_count())]


def env_info(env_id):
    import numpy as np

    od, ad, ms, ver = (ctypes.c_int32() for _ in range(4))
    err = error_buffer()
    if lib.ofs_env_info(env_id.encode(), ctypes.byref(od), ctypes.byref(ad), ctypes.byref(ms), ctypes.byref(ver),
                        None, None, err, ERRLEN) != 0:
        raise ValueError(message(err))
    low = np.empty(od.value, np.float32)
    high = np.empty(od.value, np.float32)
    lib.ofs_env_info(env_id.encode(), None, None, None, None, f32(low), f32(high), err, ERRLEN)
    return {"obs_dim": od.value, "act_dim": ad.value, "max_episode_steps": ms.value, "version": ver.value,
            "obs_low": low, "obs_high": high}
