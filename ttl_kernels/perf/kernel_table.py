# ruff: noqa: E501
"""Kernel times of the decode-step instances (:mod:`ttl_kernels.perf.decoder`), written by
``ttl-perf decoder-table``: regenerate it after a kernel or a figure changes.  Do not edit."""

import json

TABLE = json.loads(r"""
{
"meta": {
"chips": [
"n150",
"p150"
],
"chunk": 128,
"contexts": [
256,
512,
1024,
2048,
4096,
8192,
16384,
32768
],
"figures": {
"n150": {
"attn_gbps": 180.0,
"bcast": 32.5,
"clock_ghz": 1.0,
"dispatch_eager_python_us": 600.0,
"dispatch_eager_us": 29.0,
"dm_handoff_cycles": 80.0,
"dram_gb": 12.0,
"dram_gbps": 288.0,
"dram_latency_cycles": 293.0,
"fill": 32.0,
"fpu.add": 49.6,
"fpu.mul": 54.6,
"fpu.sub": 49.7,
"grid_x": 8.0,
"grid_y": 8.0,
"handoff_cycles": 80.0,
"l1_kib": 1464.0,
"launch_us": 0.7,
"matmul.HiFi2": 32.0,
"matmul.HiFi3": 48.0,
"matmul.HiFi4": 64.0,
"matmul.LoFi": 16.0,
"matmul.fp32_dest_factor": 1.07,
"matmul_cores": 12.0,
"matmul_dram_gbps": 249.5,
"noc_bytes_per_cycle": 25.3,
"noc_latency_cycles": 293.0,
"pack": 32.5,
"peak_tflops": 74.0,
"reduce": 59.0,
"sfpu.abs": 171.5,
"sfpu.default": 256.0,
"sfpu.exp": 1150.0,
"sfpu.gelu": 270.4,
"sfpu.log": 718.1,
"sfpu.neg": 171.5,
"sfpu.recip": 910.1,
"sfpu.relu": 171.5,
"sfpu.rsqrt": 910.1,
"sfpu.sigmoid": 266.5,
"sfpu.sign": 171.5,
"sfpu.signbit": 171.5,
"sfpu.silu": 1432.0,
"sfpu.sqrt": 910.1,
"sfpu.square": 204.2,
"sfpu.tanh": 823.9,
"sfpu_binary.add": 128.0,
"sfpu_binary.div": 1474.8,
"sfpu_binary.max": 333.8,
"sfpu_binary.min": 333.8,
"sfpu_binary.mul": 128.0,
"sfpu_binary.sub": 128.0,
"transpose": 65.0,
"typecast": 128.0,
"unpack": 32.5
},
"p150": {
"attn_gbps": 320.0,
"bcast": 32.5,
"clock_ghz": 1.35,
"dispatch_eager_python_us": 600.0,
"dispatch_eager_us": 29.0,
"dm_handoff_cycles": 60.0,
"dram_gb": 32.0,
"dram_gbps": 512.0,
"dram_latency_cycles": 293.0,
"fill": 32.0,
"fpu.add": 49.6,
"fpu.mul": 54.6,
"fpu.sub": 49.7,
"grid_x": 13.0,
"grid_y": 10.0,
"handoff_cycles": 60.0,
"l1_kib": 1536.0,
"launch_us": 0.7,
"matmul.HiFi2": 32.0,
"matmul.HiFi3": 48.0,
"matmul.HiFi4": 64.0,
"matmul.LoFi": 16.0,
"matmul.fp32_dest_factor": 1.07,
"matmul_cores": 8.0,
"matmul_dram_gbps": 443.55555555555554,
"noc_bytes_per_cycle": 60.9,
"noc_latency_cycles": 293.0,
"pack": 26.3,
"peak_tflops": 193.0,
"reduce": 59.0,
"sfpu.abs": 146.0,
"sfpu.default": 256.0,
"sfpu.exp": 1150.0,
"sfpu.gelu": 270.4,
"sfpu.log": 718.1,
"sfpu.neg": 146.0,
"sfpu.recip": 96.0,
"sfpu.relu": 146.0,
"sfpu.rsqrt": 910.1,
"sfpu.sigmoid": 266.5,
"sfpu.sign": 146.0,
"sfpu.signbit": 146.0,
"sfpu.silu": 1432.0,
"sfpu.sqrt": 910.1,
"sfpu.square": 204.2,
"sfpu.tanh": 823.9,
"sfpu_binary.add": 128.0,
"sfpu_binary.div": 1474.8,
"sfpu_binary.max": 333.8,
"sfpu_binary.min": 333.8,
"sfpu_binary.mul": 128.0,
"sfpu_binary.sub": 128.0,
"transpose": 65.0,
"typecast": 128.0,
"unpack": 26.3
}
},
"kv_dtypes": [
"bf16",
"bfp8_b"
],
"models": [
"llama-3.1-8b",
"qwen3-8b",
"tiny-llama"
],
"note": "contexts above 32K are extrapolated by lookup() from 16K and 32K (the model is affine in the context there: per-core work grows by whole chunks)"
},
"rows": {
"add_rms_norm:rows=32,cols=256,dtype=bf16,eps=1e-06,passes=1": {
"kernel": "add_rms_norm",
"min_bytes": 81920,
"n150": {
"bound": "compute",
"compute_us": 3.4531,
"dram_bytes": 155648,
"dram_us": 0.5404,
"handoff_us": 2.24,
"launch_us": 1.4,
"launches": 2,
"model_us": 7.0931,
"noc_us": 0.0,
"ratio_to_dram": 13.1246,
"useful_gbps": 11.55
},
"p150": {
"bound": "compute",
"compute_us": 2.4568,
"dram_bytes": 155648,
"dram_us": 0.304,
"handoff_us": 1.2444,
"launch_us": 1.4,
"launches": 2,
"model_us": 5.1013,
"noc_us": 0.0,
"ratio_to_dram": 16.7805,
"useful_gbps": 16.06
},
"params": {
"cols": 256,
"dtype": "bf16",
"eps": 1e-06,
"passes": 1,
"rows": 32
}
},
"add_rms_norm:rows=32,cols=4096,dtype=bf16,eps=1e-05,passes=1": {
"kernel": "add_rms_norm",
"min_bytes": 1310720,
"n150": {
"bound": "compute",
"compute_us": 8.9185,
"dram_bytes": 2195456,
"dram_us": 7.6231,
"handoff_us": 2.24,
"launch_us": 1.4,
"launches": 2,
"model_us": 12.5585,
"noc_us": 0.0,
"ratio_to_dram": 1.6474,
"useful_gbps": 104.37
},
"p150": {
"bound": "compute",
"compute_us": 6.3124,
"dram_bytes": 2195456,
"dram_us": 4.288,
"handoff_us": 1.2444,
"launch_us": 1.4,
"launches": 2,
"model_us": 8.9568,
"noc_us": 0.0,
"ratio_to_dram": 2.0888,
"useful_gbps": 146.34
},
"params": {
"cols": 4096,
"dtype": "bf16",
"eps": 1e-05,
"passes": 1,
"rows": 32
}
},
"add_rms_norm:rows=32,cols=4096,dtype=bf16,eps=1e-06,passes=1": {
"kernel": "add_rms_norm",
"min_bytes": 1310720,
"n150": {
"bound": "compute",
"compute_us": 8.9185,
"dram_bytes": 2195456,
"dram_us": 7.6231,
"handoff_us": 2.24,
"launch_us": 1.4,
"launches": 2,
"model_us": 12.5585,
"noc_us": 0.0,
"ratio_to_dram": 1.6474,
"useful_gbps": 104.37
},
"p150": {
"bound": "compute",
"compute_us": 6.3124,
"dram_bytes": 2195456,
"dram_us": 4.288,
"handoff_us": 1.2444,
"launch_us": 1.4,
"launches": 2,
"model_us": 8.9568,
"noc_us": 0.0,
"ratio_to_dram": 2.0888,
"useful_gbps": 146.34
},
"params": {
"cols": 4096,
"dtype": "bf16",
"eps": 1e-06,
"passes": 1,
"rows": 32
}
},
"flash_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=1024,pos=1023,chunk_size=128,kv_dtype=bf16": {
"kernel": "flash_decode",
"min_bytes": 4325376,
"n150": {
"bound": "compute",
"compute_us": 42.1973,
"dram_bytes": 6635520,
"dram_us": 23.04,
"handoff_us": 13.2,
"launch_us": 1.4,
"launches": 2,
"model_us": 56.7973,
"noc_us": 0.0,
"ratio_to_dram": 2.4652,
"useful_gbps": 76.15
},
"p150": {
"bound": "compute",
"compute_us": 28.8709,
"dram_bytes": 6635520,
"dram_us": 12.96,
"handoff_us": 7.3333,
"launch_us": 1.4,
"launches": 2,
"model_us": 37.6042,
"noc_us": 0.0,
"ratio_to_dram": 2.9016,
"useful_gbps": 115.02
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bf16",
"n_kv": 8,
"n_q": 32,
"pos": 1023,
"s_max": 1024
}
},
"flash_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=1024,pos=1023,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "flash_decode",
"min_bytes": 2359296,
"n150": {
"bound": "compute",
"compute_us": 47.6583,
"dram_bytes": 6963200,
"dram_us": 24.1778,
"handoff_us": 16.08,
"launch_us": 1.4,
"launches": 2,
"model_us": 65.1383,
"noc_us": 0.0,
"ratio_to_dram": 2.6941,
"useful_gbps": 36.22
},
"p150": {
"bound": "compute",
"compute_us": 32.5762,
"dram_bytes": 6963200,
"dram_us": 13.6,
"handoff_us": 8.9333,
"launch_us": 1.4,
"launches": 2,
"model_us": 42.9096,
"noc_us": 0.0,
"ratio_to_dram": 3.1551,
"useful_gbps": 54.98
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bfp8_b",
"n_kv": 8,
"n_q": 32,
"pos": 1023,
"s_max": 1024
}
},
"flash_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=16384,pos=16383,chunk_size=128,kv_dtype=bf16": {
"kernel": "flash_decode",
"min_bytes": 67239936,
"n150": {
"bound": "dram",
"compute_us": 216.4436,
"dram_bytes": 71843840,
"dram_us": 249.4578,
"handoff_us": 38.8,
"launch_us": 1.4,
"launches": 2,
"model_us": 291.9051,
"noc_us": 0.0,
"ratio_to_dram": 1.1702,
"useful_gbps": 230.35
},
"p150": {
"bound": "dram",
"compute_us": 133.4175,
"dram_bytes": 72990720,
"dram_us": 142.56,
"handoff_us": 20.4444,
"launch_us": 1.4,
"launches": 2,
"model_us": 174.0794,
"noc_us": 0.0,
"ratio_to_dram": 1.2211,
"useful_gbps": 386.26
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bf16",
"n_kv": 8,
"n_q": 32,
"pos": 16383,
"s_max": 16384
}
},
"flash_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=16384,pos=16383,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "flash_decode",
"min_bytes": 35782656,
"n150": {
"bound": "compute",
"compute_us": 315.2596,
"dram_bytes": 40386560,
"dram_us": 140.2311,
"handoff_us": 43.92,
"launch_us": 1.4,
"launches": 2,
"model_us": 360.5796,
"noc_us": 0.0,
"ratio_to_dram": 2.5713,
"useful_gbps": 99.24
},
"p150": {
"bound": "compute",
"compute_us": 134.046,
"dram_bytes": 44974080,
"dram_us": 87.84,
"handoff_us": 19.4222,
"launch_us": 1.4,
"launches": 2,
"model_us": 154.8682,
"noc_us": 0.0,
"ratio_to_dram": 1.7631,
"useful_gbps": 231.05
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bfp8_b",
"n_kv": 8,
"n_q": 32,
"pos": 16383,
"s_max": 16384
}
},
"flash_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=2048,pos=2047,chunk_size=128,kv_dtype=bf16": {
"kernel": "flash_decode",
"min_bytes": 8519680,
"n150": {
"bound": "dram",
"compute_us": 52.7153,
"dram_bytes": 13123584,
"dram_us": 45.568,
"handoff_us": 17.04,
"launch_us": 1.4,
"launches": 2,
"model_us": 77.5713,
"noc_us": 0.0,
"ratio_to_dram": 1.7023,
"useful_gbps": 109.83
},
"p150": {
"bound": "dram",
"compute_us": 36.3681,
"dram_bytes": 13123584,
"dram_us": 25.632,
"handoff_us": 9.4667,
"launch_us": 1.4,
"launches": 2,
"model_us": 47.293,
"noc_us": 0.0,
"ratio_to_dram": 1.8451,
"useful_gbps": 180.15
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bf16",
"n_kv": 8,
"n_q": 32,
"pos": 2047,
"s_max": 2048
}
},
"flash_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=2048,pos=2047,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "flash_decode",
"min_bytes": 4587520,
"n150": {
"bound": "compute",
"compute_us": 65.0673,
"dram_bytes": 9191424,
"dram_us": 31.9147,
"handoff_us": 17.68,
"launch_us": 1.4,
"launches": 2,
"model_us": 84.1473,
"noc_us": 0.0,
"ratio_to_dram": 2.6366,
"useful_gbps": 54.52
},
"p150": {
"bound": "compute",
"compute_us": 44.9299,
"dram_bytes": 9191424,
"dram_us": 17.952,
"handoff_us": 9.8222,
"launch_us": 1.4,
"launches": 2,
"model_us": 56.1521,
"noc_us": 0.0,
"ratio_to_dram": 3.1279,
"useful_gbps": 81.7
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bfp8_b",
"n_kv": 8,
"n_q": 32,
"pos": 2047,
"s_max": 2048
}
},
"flash_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=256,pos=255,chunk_size=128,kv_dtype=bf16": {
"kernel": "flash_decode",
"min_bytes": 1179648,
"n150": {
"bound": "compute",
"compute_us": 30.362,
"dram_bytes": 1572864,
"dram_us": 5.4613,
"handoff_us": 8.72,
"launch_us": 0.7,
"launches": 1,
"model_us": 39.782,
"noc_us": 0.0,
"ratio_to_dram": 7.2843,
"useful_gbps": 29.65
},
"p150": {
"bound": "compute",
"compute_us": 21.0469,
"dram_bytes": 1572864,
"dram_us": 3.072,
"handoff_us": 4.8444,
"launch_us": 0.7,
"launches": 1,
"model_us": 26.5913,
"noc_us": 0.0,
"ratio_to_dram": 8.656,
"useful_gbps": 44.36
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bf16",
"n_kv": 8,
"n_q": 32,
"pos": 255,
"s_max": 256
}
},
"flash_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=256,pos=255,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "flash_decode",
"min_bytes": 688128,
"n150": {
"bound": "compute",
"compute_us": 31.8813,
"dram_bytes": 1851392,
"dram_us": 6.4284,
"handoff_us": 10.32,
"launch_us": 1.4,
"launches": 2,
"model_us": 43.6013,
"noc_us": 0.0,
"ratio_to_dram": 6.7826,
"useful_gbps": 15.78
},
"p150": {
"bound": "compute",
"compute_us": 21.3304,
"dram_bytes": 1851392,
"dram_us": 3.616,
"handoff_us": 5.7333,
"launch_us": 1.4,
"launches": 2,
"model_us": 28.4638,
"noc_us": 0.0,
"ratio_to_dram": 7.8716,
"useful_gbps": 24.18
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bfp8_b",
"n_kv": 8,
"n_q": 32,
"pos": 255,
"s_max": 256
}
},
"flash_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=32768,pos=32767,chunk_size=128,kv_dtype=bf16": {
"kernel": "flash_decode",
"min_bytes": 134348800,
"n150": {
"bound": "dram",
"compute_us": 409.1042,
"dram_bytes": 138952704,
"dram_us": 482.4747,
"handoff_us": 66.96,
"launch_us": 1.4,
"launches": 2,
"model_us": 536.858,
"noc_us": 0.0,
"ratio_to_dram": 1.1127,
"useful_gbps": 250.25
},
"p150": {
"bound": "dram",
"compute_us": 247.5203,
"dram_bytes": 140099584,
"dram_us": 273.632,
"handoff_us": 33.9556,
"launch_us": 1.4,
"launches": 2,
"model_us": 311.9499,
"noc_us": 0.0,
"ratio_to_dram": 1.14,
"useful_gbps": 430.67
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bf16",
"n_kv": 8,
"n_q": 32,
"pos": 32767,
"s_max": 32768
}
},
"flash_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=32768,pos=32767,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "flash_decode",
"min_bytes": 71434240,
"n150": {
"bound": "compute",
"compute_us": 606.7362,
"dram_bytes": 76038144,
"dram_us": 264.0213,
"handoff_us": 77.2,
"launch_us": 1.4,
"launches": 2,
"model_us": 685.3362,
"noc_us": 0.0,
"ratio_to_dram": 2.5958,
"useful_gbps": 104.23
},
"p150": {
"bound": "compute",
"compute_us": 237.4536,
"dram_bytes": 80625664,
"dram_us": 157.472,
"handoff_us": 28.6667,
"launch_us": 1.4,
"launches": 2,
"model_us": 267.5203,
"noc_us": 0.0,
"ratio_to_dram": 1.6988,
"useful_gbps": 267.02
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bfp8_b",
"n_kv": 8,
"n_q": 32,
"pos": 32767,
"s_max": 32768
}
},
"flash_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=4096,pos=4095,chunk_size=128,kv_dtype=bf16": {
"kernel": "flash_decode",
"min_bytes": 16908288,
"n150": {
"bound": "dram",
"compute_us": 75.1813,
"dram_bytes": 21512192,
"dram_us": 74.6951,
"handoff_us": 19.6,
"launch_us": 1.4,
"launches": 2,
"model_us": 108.1904,
"noc_us": 0.0,
"ratio_to_dram": 1.4484,
"useful_gbps": 156.28
},
"p150": {
"bound": "compute",
"compute_us": 52.5136,
"dram_bytes": 21512192,
"dram_us": 42.016,
"handoff_us": 10.8889,
"launch_us": 1.4,
"launches": 2,
"model_us": 64.8024,
"noc_us": 0.0,
"ratio_to_dram": 1.5423,
"useful_gbps": 260.92
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bf16",
"n_kv": 8,
"n_q": 32,
"pos": 4095,
"s_max": 4096
}
},
"flash_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=4096,pos=4095,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "flash_decode",
"min_bytes": 9043968,
"n150": {
"bound": "compute",
"compute_us": 99.8853,
"dram_bytes": 13647872,
"dram_us": 47.3884,
"handoff_us": 20.88,
"launch_us": 1.4,
"launches": 2,
"model_us": 122.1653,
"noc_us": 0.0,
"ratio_to_dram": 2.578,
"useful_gbps": 74.03
},
"p150": {
"bound": "compute",
"compute_us": 59.9242,
"dram_bytes": 18235392,
"dram_us": 35.616,
"handoff_us": 14.0889,
"launch_us": 1.4,
"launches": 2,
"model_us": 75.4131,
"noc_us": 0.0,
"ratio_to_dram": 2.1174,
"useful_gbps": 119.93
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bfp8_b",
"n_kv": 8,
"n_q": 32,
"pos": 4095,
"s_max": 4096
}
},
"flash_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=512,pos=511,chunk_size=128,kv_dtype=bf16": {
"kernel": "flash_decode",
"min_bytes": 2228224,
"n150": {
"bound": "compute",
"compute_us": 30.9643,
"dram_bytes": 4538368,
"dram_us": 15.7582,
"handoff_us": 11.92,
"launch_us": 1.4,
"launches": 2,
"model_us": 44.2843,
"noc_us": 0.0,
"ratio_to_dram": 2.8102,
"useful_gbps": 50.32
},
"p150": {
"bound": "compute",
"compute_us": 20.7981,
"dram_bytes": 4538368,
"dram_us": 8.864,
"handoff_us": 6.6222,
"launch_us": 1.4,
"launches": 2,
"model_us": 28.8204,
"noc_us": 0.0,
"ratio_to_dram": 3.2514,
"useful_gbps": 77.31
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bf16",
"n_kv": 8,
"n_q": 32,
"pos": 511,
"s_max": 512
}
},
"flash_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=512,pos=511,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "flash_decode",
"min_bytes": 1245184,
"n150": {
"bound": "compute",
"compute_us": 37.1403,
"dram_bytes": 3555328,
"dram_us": 12.3449,
"handoff_us": 12.24,
"launch_us": 1.4,
"launches": 2,
"model_us": 50.7803,
"noc_us": 0.0,
"ratio_to_dram": 4.1135,
"useful_gbps": 24.52
},
"p150": {
"bound": "compute",
"compute_us": 25.079,
"dram_bytes": 3555328,
"dram_us": 6.944,
"handoff_us": 6.8,
"launch_us": 1.4,
"launches": 2,
"model_us": 33.279,
"noc_us": 0.0,
"ratio_to_dram": 4.7925,
"useful_gbps": 37.42
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bfp8_b",
"n_kv": 8,
"n_q": 32,
"pos": 511,
"s_max": 512
}
},
"flash_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=8192,pos=8191,chunk_size=128,kv_dtype=bf16": {
"kernel": "flash_decode",
"min_bytes": 33685504,
"n150": {
"bound": "dram",
"compute_us": 120.1133,
"dram_bytes": 38289408,
"dram_us": 132.9493,
"handoff_us": 24.72,
"launch_us": 1.4,
"launches": 2,
"model_us": 169.4287,
"noc_us": 0.0,
"ratio_to_dram": 1.2744,
"useful_gbps": 198.82
},
"p150": {
"bound": "dram",
"compute_us": 74.204,
"dram_bytes": 40009728,
"dram_us": 78.144,
"handoff_us": 13.8667,
"launch_us": 1.4,
"launches": 2,
"model_us": 108.1863,
"noc_us": 0.0,
"ratio_to_dram": 1.3844,
"useful_gbps": 311.37
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bf16",
"n_kv": 8,
"n_q": 32,
"pos": 8191,
"s_max": 8192
}
},
"flash_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=8192,pos=8191,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "flash_decode",
"min_bytes": 17956864,
"n150": {
"bound": "compute",
"compute_us": 169.5213,
"dram_bytes": 22560768,
"dram_us": 78.336,
"handoff_us": 27.28,
"launch_us": 1.4,
"launches": 2,
"model_us": 198.2013,
"noc_us": 0.0,
"ratio_to_dram": 2.5301,
"useful_gbps": 90.6
},
"p150": {
"bound": "compute",
"compute_us": 84.6315,
"dram_bytes": 27148288,
"dram_us": 53.024,
"handoff_us": 15.8667,
"launch_us": 1.4,
"launches": 2,
"model_us": 101.8981,
"noc_us": 0.0,
"ratio_to_dram": 1.9217,
"useful_gbps": 176.22
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bfp8_b",
"n_kv": 8,
"n_q": 32,
"pos": 8191,
"s_max": 8192
}
},
"flash_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=1024,pos=1023,chunk_size=128,kv_dtype=bf16": {
"kernel": "flash_decode",
"min_bytes": 540672,
"n150": {
"bound": "compute",
"compute_us": 36.4603,
"dram_bytes": 1028096,
"dram_us": 3.5698,
"handoff_us": 13.2,
"launch_us": 1.4,
"launches": 2,
"model_us": 51.0603,
"noc_us": 0.0,
"ratio_to_dram": 14.3035,
"useful_gbps": 10.59
},
"p150": {
"bound": "compute",
"compute_us": 24.8509,
"dram_bytes": 1028096,
"dram_us": 2.008,
"handoff_us": 7.3333,
"launch_us": 1.4,
"launches": 2,
"model_us": 33.5842,
"noc_us": 0.0,
"ratio_to_dram": 16.7252,
"useful_gbps": 16.1
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bf16",
"n_kv": 2,
"n_q": 4,
"pos": 1023,
"s_max": 1024
}
},
"flash_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=1024,pos=1023,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "flash_decode",
"min_bytes": 294912,
"n150": {
"bound": "compute",
"compute_us": 39.7353,
"dram_bytes": 1257472,
"dram_us": 4.3662,
"handoff_us": 16.08,
"launch_us": 1.4,
"launches": 2,
"model_us": 57.2153,
"noc_us": 0.0,
"ratio_to_dram": 13.1041,
"useful_gbps": 5.15
},
"p150": {
"bound": "compute",
"compute_us": 27.1023,
"dram_bytes": 1257472,
"dram_us": 2.456,
"handoff_us": 8.9333,
"launch_us": 1.4,
"launches": 2,
"model_us": 37.4356,
"noc_us": 0.0,
"ratio_to_dram": 15.2425,
"useful_gbps": 7.88
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bfp8_b",
"n_kv": 2,
"n_q": 4,
"pos": 1023,
"s_max": 1024
}
},
"flash_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=2048,pos=2047,chunk_size=128,kv_dtype=bf16": {
"kernel": "flash_decode",
"min_bytes": 1064960,
"n150": {
"bound": "compute",
"compute_us": 45.9463,
"dram_bytes": 2027520,
"dram_us": 7.04,
"handoff_us": 17.04,
"launch_us": 1.4,
"launches": 2,
"model_us": 64.3863,
"noc_us": 0.0,
"ratio_to_dram": 9.1458,
"useful_gbps": 16.54
},
"p150": {
"bound": "compute",
"compute_us": 31.6571,
"dram_bytes": 2027520,
"dram_us": 3.96,
"handoff_us": 9.4667,
"launch_us": 1.4,
"launches": 2,
"model_us": 42.5238,
"noc_us": 0.0,
"ratio_to_dram": 10.7383,
"useful_gbps": 25.04
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bf16",
"n_kv": 2,
"n_q": 4,
"pos": 2047,
"s_max": 2048
}
},
"flash_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=2048,pos=2047,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "flash_decode",
"min_bytes": 573440,
"n150": {
"bound": "compute",
"compute_us": 52.1223,
"dram_bytes": 1536000,
"dram_us": 5.3333,
"handoff_us": 17.68,
"launch_us": 1.4,
"launches": 2,
"model_us": 71.2023,
"noc_us": 0.0,
"ratio_to_dram": 13.3504,
"useful_gbps": 8.05
},
"p150": {
"bound": "compute",
"compute_us": 35.938,
"dram_bytes": 1536000,
"dram_us": 3.0,
"handoff_us": 9.8222,
"launch_us": 1.4,
"launches": 2,
"model_us": 47.1602,
"noc_us": 0.0,
"ratio_to_dram": 15.7201,
"useful_gbps": 12.16
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bfp8_b",
"n_kv": 2,
"n_q": 4,
"pos": 2047,
"s_max": 2048
}
},
"flash_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=256,pos=255,chunk_size=128,kv_dtype=bf16": {
"kernel": "flash_decode",
"min_bytes": 147456,
"n150": {
"bound": "compute",
"compute_us": 25.915,
"dram_bytes": 245760,
"dram_us": 0.8533,
"handoff_us": 8.72,
"launch_us": 0.7,
"launches": 1,
"model_us": 35.335,
"noc_us": 0.0,
"ratio_to_dram": 41.4082,
"useful_gbps": 4.17
},
"p150": {
"bound": "compute",
"compute_us": 17.8906,
"dram_bytes": 245760,
"dram_us": 0.48,
"handoff_us": 4.8444,
"launch_us": 0.7,
"launches": 1,
"model_us": 23.435,
"noc_us": 0.0,
"ratio_to_dram": 48.823,
"useful_gbps": 6.29
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bf16",
"n_kv": 2,
"n_q": 4,
"pos": 255,
"s_max": 256
}
},
"flash_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=256,pos=255,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "flash_decode",
"min_bytes": 86016,
"n150": {
"bound": "compute",
"compute_us": 25.5063,
"dram_bytes": 335872,
"dram_us": 1.1662,
"handoff_us": 10.32,
"launch_us": 1.4,
"launches": 2,
"model_us": 37.2263,
"noc_us": 0.0,
"ratio_to_dram": 31.9204,
"useful_gbps": 2.31
},
"p150": {
"bound": "compute",
"compute_us": 16.893,
"dram_bytes": 335872,
"dram_us": 0.656,
"handoff_us": 5.7333,
"launch_us": 1.4,
"launches": 2,
"model_us": 24.0263,
"noc_us": 0.0,
"ratio_to_dram": 36.6255,
"useful_gbps": 3.58
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bfp8_b",
"n_kv": 2,
"n_q": 4,
"pos": 255,
"s_max": 256
}
},
"flash_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=4096,pos=4095,chunk_size=128,kv_dtype=bf16": {
"kernel": "flash_decode",
"min_bytes": 2113536,
"n150": {
"bound": "compute",
"compute_us": 62.2298,
"dram_bytes": 3432448,
"dram_us": 11.9182,
"handoff_us": 21.12,
"launch_us": 1.4,
"launches": 2,
"model_us": 84.7498,
"noc_us": 0.0,
"ratio_to_dram": 7.1109,
"useful_gbps": 24.94
},
"p150": {
"bound": "compute",
"compute_us": 43.3791,
"dram_bytes": 3432448,
"dram_us": 6.704,
"handoff_us": 11.7333,
"launch_us": 1.4,
"launches": 2,
"model_us": 56.5124,
"noc_us": 0.0,
"ratio_to_dram": 8.4297,
"useful_gbps": 37.4
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bf16",
"n_kv": 2,
"n_q": 4,
"pos": 4095,
"s_max": 4096
}
},
"flash_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=4096,pos=4095,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "flash_decode",
"min_bytes": 1130496,
"n150": {
"bound": "compute",
"compute_us": 71.0943,
"dram_bytes": 3043328,
"dram_us": 10.5671,
"handoff_us": 25.36,
"launch_us": 1.4,
"launches": 2,
"model_us": 97.8543,
"noc_us": 0.0,
"ratio_to_dram": 9.2603,
"useful_gbps": 11.55
},
"p150": {
"bound": "compute",
"compute_us": 49.5504,
"dram_bytes": 3043328,
"dram_us": 5.944,
"handoff_us": 14.0889,
"launch_us": 1.4,
"launches": 2,
"model_us": 65.0393,
"noc_us": 0.0,
"ratio_to_dram": 10.942,
"useful_gbps": 17.38
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bfp8_b",
"n_kv": 2,
"n_q": 4,
"pos": 4095,
"s_max": 4096
}
},
"flash_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=512,pos=511,chunk_size=128,kv_dtype=bf16": {
"kernel": "flash_decode",
"min_bytes": 278528,
"n150": {
"bound": "compute",
"compute_us": 27.1613,
"dram_bytes": 765952,
"dram_us": 2.6596,
"handoff_us": 11.92,
"launch_us": 1.4,
"launches": 2,
"model_us": 40.4813,
"noc_us": 0.0,
"ratio_to_dram": 15.2211,
"useful_gbps": 6.88
},
"p150": {
"bound": "compute",
"compute_us": 18.1556,
"dram_bytes": 765952,
"dram_us": 1.496,
"handoff_us": 6.6222,
"launch_us": 1.4,
"launches": 2,
"model_us": 26.1779,
"noc_us": 0.0,
"ratio_to_dram": 17.4986,
"useful_gbps": 10.64
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bf16",
"n_kv": 2,
"n_q": 4,
"pos": 511,
"s_max": 512
}
},
"flash_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=512,pos=511,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "flash_decode",
"min_bytes": 155648,
"n150": {
"bound": "compute",
"compute_us": 30.2493,
"dram_bytes": 643072,
"dram_us": 2.2329,
"handoff_us": 12.24,
"launch_us": 1.4,
"launches": 2,
"model_us": 43.8893,
"noc_us": 0.0,
"ratio_to_dram": 19.6558,
"useful_gbps": 3.55
},
"p150": {
"bound": "compute",
"compute_us": 20.2961,
"dram_bytes": 643072,
"dram_us": 1.256,
"handoff_us": 6.8,
"launch_us": 1.4,
"launches": 2,
"model_us": 28.4961,
"noc_us": 0.0,
"ratio_to_dram": 22.688,
"useful_gbps": 5.46
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bfp8_b",
"n_kv": 2,
"n_q": 4,
"pos": 511,
"s_max": 512
}
},
"flash_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=8192,pos=8191,chunk_size=128,kv_dtype=bf16": {
"kernel": "flash_decode",
"min_bytes": 4210688,
"n150": {
"bound": "compute",
"compute_us": 83.5163,
"dram_bytes": 6123520,
"dram_us": 21.2622,
"handoff_us": 27.28,
"launch_us": 1.4,
"launches": 2,
"model_us": 112.1963,
"noc_us": 0.0,
"ratio_to_dram": 5.2768,
"useful_gbps": 37.53
},
"p150": {
"bound": "compute",
"compute_us": 58.6601,
"dram_bytes": 6123520,
"dram_us": 11.96,
"handoff_us": 15.1556,
"launch_us": 1.4,
"launches": 2,
"model_us": 75.2156,
"noc_us": 0.0,
"ratio_to_dram": 6.2889,
"useful_gbps": 55.98
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bf16",
"n_kv": 2,
"n_q": 4,
"pos": 8191,
"s_max": 8192
}
},
"flash_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=8192,pos=8191,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "flash_decode",
"min_bytes": 2244608,
"n150": {
"bound": "compute",
"compute_us": 95.8683,
"dram_bytes": 4157440,
"dram_us": 14.4356,
"handoff_us": 28.56,
"launch_us": 1.4,
"launches": 2,
"model_us": 125.8283,
"noc_us": 0.0,
"ratio_to_dram": 8.7166,
"useful_gbps": 17.84
},
"p150": {
"bound": "compute",
"compute_us": 67.2219,
"dram_bytes": 4157440,
"dram_us": 8.12,
"handoff_us": 15.8667,
"launch_us": 1.4,
"launches": 2,
"model_us": 84.4885,
"noc_us": 0.0,
"ratio_to_dram": 10.405,
"useful_gbps": 26.57
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bfp8_b",
"n_kv": 2,
"n_q": 4,
"pos": 8191,
"s_max": 8192
}
},
"groups_to_heads:batch=1,n_q=32,n_kv=8,head_dim=128": {
"kernel": "groups_to_heads",
"min_bytes": 327680,
"n150": {
"bound": "dram",
"compute_us": 0.646,
"dram_bytes": 589824,
"dram_us": 2.048,
"handoff_us": 0.4,
"launch_us": 0.7,
"launches": 1,
"model_us": 3.201,
"noc_us": 0.0,
"ratio_to_dram": 1.563,
"useful_gbps": 102.37
},
"p150": {
"bound": "dram",
"compute_us": 0.4234,
"dram_bytes": 589824,
"dram_us": 1.152,
"handoff_us": 0.2222,
"launch_us": 0.7,
"launches": 1,
"model_us": 2.1579,
"noc_us": 0.0,
"ratio_to_dram": 1.8732,
"useful_gbps": 151.85
},
"params": {
"batch": 1,
"head_dim": 128,
"n_kv": 8,
"n_q": 32
}
},
"groups_to_heads:batch=1,n_q=4,n_kv=2,head_dim=64": {
"kernel": "groups_to_heads",
"min_bytes": 24576,
"n150": {
"bound": "handoff",
"compute_us": 0.323,
"dram_bytes": 40960,
"dram_us": 0.1422,
"handoff_us": 0.4,
"launch_us": 0.7,
"launches": 1,
"model_us": 1.423,
"noc_us": 0.0,
"ratio_to_dram": 10.0055,
"useful_gbps": 17.27
},
"p150": {
"bound": "dispatch",
"compute_us": 0.2117,
"dram_bytes": 40960,
"dram_us": 0.08,
"handoff_us": 0.2222,
"launch_us": 0.7,
"launches": 1,
"model_us": 1.1339,
"noc_us": 0.0,
"ratio_to_dram": 14.1741,
"useful_gbps": 21.67
},
"params": {
"batch": 1,
"head_dim": 64,
"n_kv": 2,
"n_q": 4
}
},
"head_rms_norm:rows=32,heads=32,head_dim=128,dtype=bf16,eps=1e-06": {
"kernel": "head_rms_norm",
"min_bytes": 532480,
"n150": {
"bound": "compute",
"compute_us": 3.3104,
"dram_bytes": 851968,
"dram_us": 2.9582,
"handoff_us": 1.28,
"launch_us": 0.7,
"launches": 1,
"model_us": 5.2904,
"noc_us": 0.0,
"ratio_to_dram": 1.7884,
"useful_gbps": 100.65
},
"p150": {
"bound": "compute",
"compute_us": 2.3465,
"dram_bytes": 851968,
"dram_us": 1.664,
"handoff_us": 0.7111,
"launch_us": 0.7,
"launches": 1,
"model_us": 3.7576,
"noc_us": 0.0,
"ratio_to_dram": 2.2582,
"useful_gbps": 141.71
},
"params": {
"dtype": "bf16",
"eps": 1e-06,
"head_dim": 128,
"heads": 32,
"rows": 32
}
},
"head_rms_norm:rows=32,heads=8,head_dim=128,dtype=bf16,eps=1e-06": {
"kernel": "head_rms_norm",
"min_bytes": 139264,
"n150": {
"bound": "compute",
"compute_us": 3.3104,
"dram_bytes": 212992,
"dram_us": 0.7396,
"handoff_us": 1.28,
"launch_us": 0.7,
"launches": 1,
"model_us": 5.2904,
"noc_us": 0.0,
"ratio_to_dram": 7.1535,
"useful_gbps": 26.32
},
"p150": {
"bound": "compute",
"compute_us": 2.3465,
"dram_bytes": 212992,
"dram_us": 0.416,
"handoff_us": 0.7111,
"launch_us": 0.7,
"launches": 1,
"model_us": 3.7576,
"noc_us": 0.0,
"ratio_to_dram": 9.0328,
"useful_gbps": 37.06
},
"params": {
"dtype": "bf16",
"eps": 1e-06,
"head_dim": 128,
"heads": 8,
"rows": 32
}
},
"heads_to_groups:batch=1,n_q=32,n_kv=8,head_dim=128": {
"kernel": "heads_to_groups",
"min_bytes": 327680,
"n150": {
"bound": "dram",
"compute_us": 2.194,
"dram_bytes": 393216,
"dram_us": 1.3653,
"handoff_us": 1.36,
"launch_us": 0.7,
"launches": 1,
"model_us": 4.2623,
"noc_us": 0.0,
"ratio_to_dram": 3.1218,
"useful_gbps": 76.88
},
"p150": {
"bound": "compute",
"compute_us": 1.4599,
"dram_bytes": 393216,
"dram_us": 0.768,
"handoff_us": 0.7556,
"launch_us": 0.7,
"launches": 1,
"model_us": 2.9154,
"noc_us": 0.0,
"ratio_to_dram": 3.7961,
"useful_gbps": 112.4
},
"params": {
"batch": 1,
"head_dim": 128,
"n_kv": 8,
"n_q": 32
}
},
"heads_to_groups:batch=1,n_q=4,n_kv=2,head_dim=64": {
"kernel": "heads_to_groups",
"min_bytes": 24576,
"n150": {
"bound": "dram",
"compute_us": 0.581,
"dram_bytes": 32768,
"dram_us": 0.1138,
"handoff_us": 0.72,
"launch_us": 0.7,
"launches": 1,
"model_us": 2.0917,
"noc_us": 0.0,
"ratio_to_dram": 18.384,
"useful_gbps": 11.75
},
"p150": {
"bound": "handoff",
"compute_us": 0.3844,
"dram_bytes": 32768,
"dram_us": 0.064,
"handoff_us": 0.4,
"launch_us": 0.7,
"launches": 1,
"model_us": 1.4844,
"noc_us": 0.0,
"ratio_to_dram": 23.1944,
"useful_gbps": 16.56
},
"params": {
"batch": 1,
"head_dim": 64,
"n_kv": 2,
"n_q": 4
}
},
"kv_update:batch=1,n_kv=2,head_dim=64": {
"kernel": "kv_update",
"min_bytes": 49152,
"n150": {
"bound": "handoff",
"compute_us": 1.0628,
"dram_bytes": 61440,
"dram_us": 0.2133,
"handoff_us": 1.28,
"launch_us": 0.7,
"launches": 1,
"model_us": 3.0428,
"noc_us": 0.0,
"ratio_to_dram": 14.2631,
"useful_gbps": 16.15
},
"p150": {
"bound": "compute",
"compute_us": 0.7321,
"dram_bytes": 61440,
"dram_us": 0.12,
"handoff_us": 0.7111,
"launch_us": 0.7,
"launches": 1,
"model_us": 2.1433,
"noc_us": 0.0,
"ratio_to_dram": 17.8605,
"useful_gbps": 22.93
},
"params": {
"batch": 1,
"head_dim": 64,
"n_kv": 2
}
},
"kv_update:batch=1,n_kv=8,head_dim=128": {
"kernel": "kv_update",
"min_bytes": 393216,
"n150": {
"bound": "compute",
"compute_us": 2.1256,
"dram_bytes": 475136,
"dram_us": 1.6498,
"handoff_us": 1.28,
"launch_us": 0.7,
"launches": 1,
"model_us": 4.1056,
"noc_us": 0.0,
"ratio_to_dram": 2.4886,
"useful_gbps": 95.78
},
"p150": {
"bound": "compute",
"compute_us": 1.4643,
"dram_bytes": 475136,
"dram_us": 0.928,
"handoff_us": 0.7111,
"launch_us": 0.7,
"launches": 1,
"model_us": 2.8754,
"noc_us": 0.0,
"ratio_to_dram": 3.0985,
"useful_gbps": 136.75
},
"params": {
"batch": 1,
"head_dim": 128,
"n_kv": 8
}
},
"mesh_select:rows=32,cols=256,dtype=bf16": {
"kernel": "mesh_select",
"min_bytes": 53248,
"n150": {
"bound": "compute",
"compute_us": 1.794,
"dram_bytes": 57344,
"dram_us": 0.1991,
"handoff_us": 1.6,
"launch_us": 0.7,
"launches": 1,
"model_us": 4.094,
"noc_us": 0.0,
"ratio_to_dram": 20.5614,
"useful_gbps": 13.01
},
"p150": {
"bound": "compute",
"compute_us": 1.2498,
"dram_bytes": 57344,
"dram_us": 0.112,
"handoff_us": 0.8889,
"launch_us": 0.7,
"launches": 1,
"model_us": 2.8387,
"noc_us": 0.0,
"ratio_to_dram": 25.3452,
"useful_gbps": 18.76
},
"params": {
"cols": 256,
"dtype": "bf16",
"rows": 32
}
},
"mesh_select:rows=32,cols=4096,dtype=bf16": {
"kernel": "mesh_select",
"min_bytes": 790528,
"n150": {
"bound": "dram",
"compute_us": 1.794,
"dram_bytes": 917504,
"dram_us": 3.1858,
"handoff_us": 1.6,
"launch_us": 0.7,
"launches": 1,
"model_us": 6.1508,
"noc_us": 0.0,
"ratio_to_dram": 1.9307,
"useful_gbps": 128.52
},
"p150": {
"bound": "dram",
"compute_us": 1.2498,
"dram_bytes": 917504,
"dram_us": 1.792,
"handoff_us": 0.8889,
"launch_us": 0.7,
"launches": 1,
"model_us": 4.0216,
"noc_us": 0.0,
"ratio_to_dram": 2.2442,
"useful_gbps": 196.57
},
"params": {
"cols": 4096,
"dtype": "bf16",
"rows": 32
}
},
"rms_norm:rows=32,cols=256,dtype=bf16,eps=1e-06,passes=1": {
"kernel": "rms_norm",
"min_bytes": 49152,
"n150": {
"bound": "compute",
"compute_us": 2.9437,
"dram_bytes": 122880,
"dram_us": 0.4267,
"handoff_us": 2.08,
"launch_us": 1.4,
"launches": 2,
"model_us": 6.4237,
"noc_us": 0.0,
"ratio_to_dram": 15.0555,
"useful_gbps": 7.65
},
"p150": {
"bound": "compute",
"compute_us": 2.0887,
"dram_bytes": 122880,
"dram_us": 0.24,
"handoff_us": 1.1556,
"launch_us": 1.4,
"launches": 2,
"model_us": 4.6442,
"noc_us": 0.0,
"ratio_to_dram": 19.3509,
"useful_gbps": 10.58
},
"params": {
"cols": 256,
"dtype": "bf16",
"eps": 1e-06,
"passes": 1,
"rows": 32
}
},
"rms_norm:rows=32,cols=4096,dtype=bf16,eps=1e-05,passes=1": {
"kernel": "rms_norm",
"min_bytes": 786432,
"n150": {
"bound": "compute",
"compute_us": 6.8809,
"dram_bytes": 1671168,
"dram_us": 5.8027,
"handoff_us": 2.08,
"launch_us": 1.4,
"launches": 2,
"model_us": 10.3609,
"noc_us": 0.0,
"ratio_to_dram": 1.7855,
"useful_gbps": 75.9
},
"p150": {
"bound": "compute",
"compute_us": 4.8398,
"dram_bytes": 1671168,
"dram_us": 3.264,
"handoff_us": 1.1556,
"launch_us": 1.4,
"launches": 2,
"model_us": 7.3953,
"noc_us": 0.0,
"ratio_to_dram": 2.2657,
"useful_gbps": 106.34
},
"params": {
"cols": 4096,
"dtype": "bf16",
"eps": 1e-05,
"passes": 1,
"rows": 32
}
},
"rms_norm:rows=32,cols=4096,dtype=bf16,eps=1e-06,passes=1": {
"kernel": "rms_norm",
"min_bytes": 786432,
"n150": {
"bound": "compute",
"compute_us": 6.8809,
"dram_bytes": 1671168,
"dram_us": 5.8027,
"handoff_us": 2.08,
"launch_us": 1.4,
"launches": 2,
"model_us": 10.3609,
"noc_us": 0.0,
"ratio_to_dram": 1.7855,
"useful_gbps": 75.9
},
"p150": {
"bound": "compute",
"compute_us": 4.8398,
"dram_bytes": 1671168,
"dram_us": 3.264,
"handoff_us": 1.1556,
"launch_us": 1.4,
"launches": 2,
"model_us": 7.3953,
"noc_us": 0.0,
"ratio_to_dram": 2.2657,
"useful_gbps": 106.34
},
"params": {
"cols": 4096,
"dtype": "bf16",
"eps": 1e-06,
"passes": 1,
"rows": 32
}
},
"rope:rows=32,seq=32,n_q=32,n_kv=8,head_dim=128,model=llama-3.1-8b,dtype=bf16": {
"kernel": "rope",
"min_bytes": 663552,
"n150": {
"bound": "dram",
"compute_us": 1.4648,
"dram_bytes": 1064960,
"dram_us": 3.6978,
"handoff_us": 0.88,
"launch_us": 0.7,
"launches": 1,
"model_us": 5.6768,
"noc_us": 0.0,
"ratio_to_dram": 1.5352,
"useful_gbps": 116.89
},
"p150": {
"bound": "dram",
"compute_us": 1.0483,
"dram_bytes": 1064960,
"dram_us": 2.08,
"handoff_us": 0.4889,
"launch_us": 0.7,
"launches": 1,
"model_us": 3.6533,
"noc_us": 0.0,
"ratio_to_dram": 1.7564,
"useful_gbps": 181.63
},
"params": {
"dtype": "bf16",
"head_dim": 128,
"model": "llama-3.1-8b",
"n_kv": 8,
"n_q": 32,
"rows": 32,
"seq": 32
}
},
"rope:rows=32,seq=32,n_q=32,n_kv=8,head_dim=128,model=qwen3-8b,dtype=bf16": {
"kernel": "rope",
"min_bytes": 663552,
"n150": {
"bound": "dram",
"compute_us": 1.4648,
"dram_bytes": 1064960,
"dram_us": 3.6978,
"handoff_us": 0.88,
"launch_us": 0.7,
"launches": 1,
"model_us": 5.6768,
"noc_us": 0.0,
"ratio_to_dram": 1.5352,
"useful_gbps": 116.89
},
"p150": {
"bound": "dram",
"compute_us": 1.0483,
"dram_bytes": 1064960,
"dram_us": 2.08,
"handoff_us": 0.4889,
"launch_us": 0.7,
"launches": 1,
"model_us": 3.6533,
"noc_us": 0.0,
"ratio_to_dram": 1.7564,
"useful_gbps": 181.63
},
"params": {
"dtype": "bf16",
"head_dim": 128,
"model": "qwen3-8b",
"n_kv": 8,
"n_q": 32,
"rows": 32,
"seq": 32
}
},
"rope:rows=32,seq=32,n_q=4,n_kv=2,head_dim=64,model=tiny-llama,dtype=bf16": {
"kernel": "rope",
"min_bytes": 53248,
"n150": {
"bound": "dram",
"compute_us": 0.7324,
"dram_bytes": 86016,
"dram_us": 0.2987,
"handoff_us": 0.88,
"launch_us": 0.7,
"launches": 1,
"model_us": 2.3925,
"noc_us": 0.0,
"ratio_to_dram": 8.0106,
"useful_gbps": 22.26
},
"p150": {
"bound": "dram",
"compute_us": 0.5241,
"dram_bytes": 86016,
"dram_us": 0.168,
"handoff_us": 0.4889,
"launch_us": 0.7,
"launches": 1,
"model_us": 1.7441,
"noc_us": 0.0,
"ratio_to_dram": 10.3813,
"useful_gbps": 30.53
},
"params": {
"dtype": "bf16",
"head_dim": 64,
"model": "tiny-llama",
"n_kv": 2,
"n_q": 4,
"rows": 32,
"seq": 32
}
},
"silu_mul:rows=32,cols=12288,dtype=bf16": {
"kernel": "silu_mul",
"min_bytes": 2359296,
"n150": {
"bound": "compute",
"compute_us": 9.945,
"dram_bytes": 2359296,
"dram_us": 8.192,
"handoff_us": 0.24,
"launch_us": 0.7,
"launches": 1,
"model_us": 10.885,
"noc_us": 0.0,
"ratio_to_dram": 1.3287,
"useful_gbps": 216.75
},
"p150": {
"bound": "dram",
"compute_us": 4.856,
"dram_bytes": 2359296,
"dram_us": 4.608,
"handoff_us": 0.2667,
"launch_us": 0.7,
"launches": 1,
"model_us": 5.9199,
"noc_us": 0.0,
"ratio_to_dram": 1.2847,
"useful_gbps": 398.54
},
"params": {
"cols": 12288,
"dtype": "bf16",
"rows": 32
}
},
"silu_mul:rows=32,cols=14336,dtype=bf16": {
"kernel": "silu_mul",
"min_bytes": 2752512,
"n150": {
"bound": "compute",
"compute_us": 11.6025,
"dram_bytes": 2752512,
"dram_us": 9.5573,
"handoff_us": 0.24,
"launch_us": 0.7,
"launches": 1,
"model_us": 12.5425,
"noc_us": 0.0,
"ratio_to_dram": 1.3123,
"useful_gbps": 219.45
},
"p150": {
"bound": "dram",
"compute_us": 4.856,
"dram_bytes": 2752512,
"dram_us": 5.376,
"handoff_us": 0.2667,
"launch_us": 0.7,
"launches": 1,
"model_us": 6.6879,
"noc_us": 0.0,
"ratio_to_dram": 1.244,
"useful_gbps": 411.57
},
"params": {
"cols": 14336,
"dtype": "bf16",
"rows": 32
}
},
"silu_mul:rows=32,cols=512,dtype=bf16": {
"kernel": "silu_mul",
"min_bytes": 98304,
"n150": {
"bound": "compute",
"compute_us": 1.6575,
"dram_bytes": 98304,
"dram_us": 0.3413,
"handoff_us": 0.24,
"launch_us": 0.7,
"launches": 1,
"model_us": 2.5975,
"noc_us": 0.0,
"ratio_to_dram": 7.6099,
"useful_gbps": 37.85
},
"p150": {
"bound": "compute",
"compute_us": 1.214,
"dram_bytes": 98304,
"dram_us": 0.192,
"handoff_us": 0.1333,
"launch_us": 0.7,
"launches": 1,
"model_us": 2.0473,
"noc_us": 0.0,
"ratio_to_dram": 10.6632,
"useful_gbps": 48.02
},
"params": {
"cols": 512,
"dtype": "bf16",
"rows": 32
}
},
"speculative_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=1024,pos=1023,chunk_size=128,kv_dtype=bf16": {
"kernel": "speculative_decode",
"min_bytes": 4390912,
"n150": {
"bound": "compute",
"compute_us": 47.2542,
"dram_bytes": 6854656,
"dram_us": 23.8009,
"handoff_us": 18.48,
"launch_us": 2.1,
"launches": 3,
"model_us": 67.8342,
"noc_us": 0.0,
"ratio_to_dram": 2.8501,
"useful_gbps": 64.73
},
"p150": {
"bound": "compute",
"compute_us": 32.3907,
"dram_bytes": 6854656,
"dram_us": 13.388,
"handoff_us": 10.2667,
"launch_us": 2.1,
"launches": 3,
"model_us": 44.7573,
"noc_us": 0.0,
"ratio_to_dram": 3.3431,
"useful_gbps": 98.1
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bf16",
"n_kv": 8,
"n_q": 32,
"pos": 1023,
"s_max": 1024
}
},
"speculative_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=1024,pos=1023,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "speculative_decode",
"min_bytes": 2424832,
"n150": {
"bound": "compute",
"compute_us": 59.6062,
"dram_bytes": 4888576,
"dram_us": 16.9742,
"handoff_us": 19.12,
"launch_us": 2.1,
"launches": 3,
"model_us": 80.8262,
"noc_us": 0.0,
"ratio_to_dram": 4.7617,
"useful_gbps": 30.0
},
"p150": {
"bound": "compute",
"compute_us": 40.9524,
"dram_bytes": 4888576,
"dram_us": 9.548,
"handoff_us": 10.6222,
"launch_us": 2.1,
"launches": 3,
"model_us": 53.6747,
"noc_us": 0.0,
"ratio_to_dram": 5.6216,
"useful_gbps": 45.18
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bfp8_b",
"n_kv": 8,
"n_q": 32,
"pos": 1023,
"s_max": 1024
}
},
"speculative_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=16384,pos=16383,chunk_size=128,kv_dtype=bf16": {
"kernel": "speculative_decode",
"min_bytes": 67305472,
"n150": {
"bound": "dram",
"compute_us": 230.994,
"dram_bytes": 72341504,
"dram_us": 251.1858,
"handoff_us": 49.68,
"launch_us": 2.1,
"launches": 3,
"model_us": 307.5696,
"noc_us": 0.0,
"ratio_to_dram": 1.2245,
"useful_gbps": 218.83
},
"p150": {
"bound": "dram",
"compute_us": 145.01,
"dram_bytes": 73209856,
"dram_us": 142.988,
"handoff_us": 24.0889,
"launch_us": 2.1,
"launches": 3,
"model_us": 181.7555,
"noc_us": 0.0,
"ratio_to_dram": 1.2711,
"useful_gbps": 370.31
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bf16",
"n_kv": 8,
"n_q": 32,
"pos": 16383,
"s_max": 16384
}
},
"speculative_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=16384,pos=16383,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "speculative_decode",
"min_bytes": 35848192,
"n150": {
"bound": "compute",
"compute_us": 329.81,
"dram_bytes": 40884224,
"dram_us": 141.9591,
"handoff_us": 54.8,
"launch_us": 2.1,
"launches": 3,
"model_us": 386.71,
"noc_us": 0.0,
"ratio_to_dram": 2.7241,
"useful_gbps": 92.7
},
"p150": {
"bound": "compute",
"compute_us": 143.6505,
"dram_bytes": 45545472,
"dram_us": 88.956,
"handoff_us": 25.4667,
"launch_us": 2.1,
"launches": 3,
"model_us": 171.2172,
"noc_us": 0.0,
"ratio_to_dram": 1.9247,
"useful_gbps": 209.37
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bfp8_b",
"n_kv": 8,
"n_q": 32,
"pos": 16383,
"s_max": 16384
}
},
"speculative_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=2048,pos=2047,chunk_size=128,kv_dtype=bf16": {
"kernel": "speculative_decode",
"min_bytes": 8585216,
"n150": {
"bound": "dram",
"compute_us": 57.7722,
"dram_bytes": 13342720,
"dram_us": 46.3289,
"handoff_us": 22.32,
"launch_us": 2.1,
"launches": 3,
"model_us": 88.6082,
"noc_us": 0.0,
"ratio_to_dram": 1.9126,
"useful_gbps": 96.89
},
"p150": {
"bound": "dram",
"compute_us": 39.8879,
"dram_bytes": 13342720,
"dram_us": 26.06,
"handoff_us": 12.4,
"launch_us": 2.1,
"launches": 3,
"model_us": 54.4461,
"noc_us": 0.0,
"ratio_to_dram": 2.0893,
"useful_gbps": 157.68
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bf16",
"n_kv": 8,
"n_q": 32,
"pos": 2047,
"s_max": 2048
}
},
"speculative_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=2048,pos=2047,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "speculative_decode",
"min_bytes": 4653056,
"n150": {
"bound": "compute",
"compute_us": 70.1242,
"dram_bytes": 9410560,
"dram_us": 32.6756,
"handoff_us": 22.96,
"launch_us": 2.1,
"launches": 3,
"model_us": 95.1842,
"noc_us": 0.0,
"ratio_to_dram": 2.913,
"useful_gbps": 48.88
},
"p150": {
"bound": "compute",
"compute_us": 48.4496,
"dram_bytes": 9410560,
"dram_us": 18.38,
"handoff_us": 12.7556,
"launch_us": 2.1,
"launches": 3,
"model_us": 63.3052,
"noc_us": 0.0,
"ratio_to_dram": 3.4442,
"useful_gbps": 73.5
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bfp8_b",
"n_kv": 8,
"n_q": 32,
"pos": 2047,
"s_max": 2048
}
},
"speculative_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=256,pos=255,chunk_size=128,kv_dtype=bf16": {
"kernel": "speculative_decode",
"min_bytes": 1245184,
"n150": {
"bound": "compute",
"compute_us": 35.9389,
"dram_bytes": 1923072,
"dram_us": 6.6773,
"handoff_us": 14.32,
"launch_us": 2.1,
"launches": 3,
"model_us": 52.3589,
"noc_us": 0.0,
"ratio_to_dram": 7.8413,
"useful_gbps": 23.78
},
"p150": {
"bound": "compute",
"compute_us": 24.8784,
"dram_bytes": 1923072,
"dram_us": 3.756,
"handoff_us": 7.9556,
"launch_us": 2.1,
"launches": 3,
"model_us": 34.9339,
"noc_us": 0.0,
"ratio_to_dram": 9.3008,
"useful_gbps": 35.64
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bf16",
"n_kv": 8,
"n_q": 32,
"pos": 255,
"s_max": 256
}
},
"speculative_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=256,pos=255,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "speculative_decode",
"min_bytes": 753664,
"n150": {
"bound": "compute",
"compute_us": 48.2909,
"dram_bytes": 1431552,
"dram_us": 4.9707,
"handoff_us": 14.96,
"launch_us": 2.1,
"launches": 3,
"model_us": 65.3509,
"noc_us": 0.0,
"ratio_to_dram": 13.1473,
"useful_gbps": 11.53
},
"p150": {
"bound": "compute",
"compute_us": 33.4401,
"dram_bytes": 1431552,
"dram_us": 2.796,
"handoff_us": 8.3111,
"launch_us": 2.1,
"launches": 3,
"model_us": 43.8513,
"noc_us": 0.0,
"ratio_to_dram": 15.6836,
"useful_gbps": 17.19
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bfp8_b",
"n_kv": 8,
"n_q": 32,
"pos": 255,
"s_max": 256
}
},
"speculative_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=32768,pos=32767,chunk_size=128,kv_dtype=bf16": {
"kernel": "speculative_decode",
"min_bytes": 134414336,
"n150": {
"bound": "dram",
"compute_us": 423.6546,
"dram_bytes": 139450368,
"dram_us": 484.2027,
"handoff_us": 77.84,
"launch_us": 2.1,
"launches": 3,
"model_us": 552.5225,
"noc_us": 0.0,
"ratio_to_dram": 1.1411,
"useful_gbps": 243.27
},
"p150": {
"bound": "dram",
"compute_us": 178.5639,
"dram_bytes": 144111616,
"dram_us": 281.468,
"handoff_us": 31.8667,
"launch_us": 2.1,
"launches": 3,
"model_us": 337.0971,
"noc_us": 0.0,
"ratio_to_dram": 1.1976,
"useful_gbps": 398.74
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bf16",
"n_kv": 8,
"n_q": 32,
"pos": 32767,
"s_max": 32768
}
},
"speculative_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=32768,pos=32767,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "speculative_decode",
"min_bytes": 71499776,
"n150": {
"bound": "compute",
"compute_us": 621.2866,
"dram_bytes": 76535808,
"dram_us": 265.7493,
"handoff_us": 88.08,
"launch_us": 2.1,
"launches": 3,
"model_us": 711.4666,
"noc_us": 0.0,
"ratio_to_dram": 2.6772,
"useful_gbps": 100.5
},
"p150": {
"bound": "compute",
"compute_us": 247.0581,
"dram_bytes": 81197056,
"dram_us": 158.588,
"handoff_us": 34.7111,
"launch_us": 2.1,
"launches": 3,
"model_us": 283.8693,
"noc_us": 0.0,
"ratio_to_dram": 1.79,
"useful_gbps": 251.88
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bfp8_b",
"n_kv": 8,
"n_q": 32,
"pos": 32767,
"s_max": 32768
}
},
"speculative_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=4096,pos=4095,chunk_size=128,kv_dtype=bf16": {
"kernel": "speculative_decode",
"min_bytes": 16973824,
"n150": {
"bound": "compute",
"compute_us": 88.7117,
"dram_bytes": 21157888,
"dram_us": 73.4649,
"handoff_us": 25.12,
"launch_us": 2.1,
"launches": 3,
"model_us": 115.9317,
"noc_us": 0.0,
"ratio_to_dram": 1.5781,
"useful_gbps": 146.41
},
"p150": {
"bound": "dram",
"compute_us": 53.5056,
"dram_bytes": 23451648,
"dram_us": 45.804,
"handoff_us": 14.6667,
"launch_us": 2.1,
"launches": 3,
"model_us": 81.0025,
"noc_us": 0.0,
"ratio_to_dram": 1.7685,
"useful_gbps": 209.55
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bf16",
"n_kv": 8,
"n_q": 32,
"pos": 4095,
"s_max": 4096
}
},
"speculative_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=4096,pos=4095,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "speculative_decode",
"min_bytes": 9109504,
"n150": {
"bound": "compute",
"compute_us": 119.5917,
"dram_bytes": 13293568,
"dram_us": 46.1582,
"handoff_us": 26.72,
"launch_us": 2.1,
"launches": 3,
"model_us": 148.4117,
"noc_us": 0.0,
"ratio_to_dram": 3.2153,
"useful_gbps": 61.38
},
"p150": {
"bound": "compute",
"compute_us": 63.444,
"dram_bytes": 18454528,
"dram_us": 36.044,
"handoff_us": 17.0222,
"launch_us": 2.1,
"launches": 3,
"model_us": 82.5662,
"noc_us": 0.0,
"ratio_to_dram": 2.2907,
"useful_gbps": 110.33
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bfp8_b",
"n_kv": 8,
"n_q": 32,
"pos": 4095,
"s_max": 4096
}
},
"speculative_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=512,pos=511,chunk_size=128,kv_dtype=bf16": {
"kernel": "speculative_decode",
"min_bytes": 2293760,
"n150": {
"bound": "compute",
"compute_us": 41.9952,
"dram_bytes": 3610624,
"dram_us": 12.5369,
"handoff_us": 16.56,
"launch_us": 2.1,
"launches": 3,
"model_us": 60.6552,
"noc_us": 0.0,
"ratio_to_dram": 4.8381,
"useful_gbps": 37.82
},
"p150": {
"bound": "compute",
"compute_us": 28.6421,
"dram_bytes": 3610624,
"dram_us": 7.052,
"handoff_us": 9.2,
"launch_us": 2.1,
"launches": 3,
"model_us": 39.9421,
"noc_us": 0.0,
"ratio_to_dram": 5.6639,
"useful_gbps": 57.43
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bf16",
"n_kv": 8,
"n_q": 32,
"pos": 511,
"s_max": 512
}
},
"speculative_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=512,pos=511,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "speculative_decode",
"min_bytes": 1310720,
"n150": {
"bound": "compute",
"compute_us": 54.3472,
"dram_bytes": 2627584,
"dram_us": 9.1236,
"handoff_us": 17.2,
"launch_us": 2.1,
"launches": 3,
"model_us": 73.6472,
"noc_us": 0.0,
"ratio_to_dram": 8.0722,
"useful_gbps": 17.8
},
"p150": {
"bound": "compute",
"compute_us": 37.2039,
"dram_bytes": 2627584,
"dram_us": 5.132,
"handoff_us": 9.5556,
"launch_us": 2.1,
"launches": 3,
"model_us": 48.8594,
"noc_us": 0.0,
"ratio_to_dram": 9.5205,
"useful_gbps": 26.83
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bfp8_b",
"n_kv": 8,
"n_q": 32,
"pos": 511,
"s_max": 512
}
},
"speculative_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=8192,pos=8191,chunk_size=128,kv_dtype=bf16": {
"kernel": "speculative_decode",
"min_bytes": 33751040,
"n150": {
"bound": "dram",
"compute_us": 134.6637,
"dram_bytes": 38787072,
"dram_us": 134.6773,
"handoff_us": 35.6,
"launch_us": 2.1,
"launches": 3,
"model_us": 185.0932,
"noc_us": 0.0,
"ratio_to_dram": 1.3743,
"useful_gbps": 182.35
},
"p150": {
"bound": "dram",
"compute_us": 83.9222,
"dram_bytes": 39655424,
"dram_us": 77.452,
"handoff_us": 16.9778,
"launch_us": 2.1,
"launches": 3,
"model_us": 112.5587,
"noc_us": 0.0,
"ratio_to_dram": 1.4533,
"useful_gbps": 299.85
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bf16",
"n_kv": 8,
"n_q": 32,
"pos": 8191,
"s_max": 8192
}
},
"speculative_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=8192,pos=8191,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "speculative_decode",
"min_bytes": 18022400,
"n150": {
"bound": "compute",
"compute_us": 184.0717,
"dram_bytes": 23058432,
"dram_us": 80.064,
"handoff_us": 38.16,
"launch_us": 2.1,
"launches": 3,
"model_us": 224.3317,
"noc_us": 0.0,
"ratio_to_dram": 2.8019,
"useful_gbps": 80.34
},
"p150": {
"bound": "compute",
"compute_us": 96.6784,
"dram_bytes": 26220544,
"dram_us": 51.212,
"handoff_us": 18.5778,
"launch_us": 2.1,
"launches": 3,
"model_us": 117.3561,
"noc_us": 0.0,
"ratio_to_dram": 2.2916,
"useful_gbps": 153.57
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 128,
"kv_dtype": "bfp8_b",
"n_kv": 8,
"n_q": 32,
"pos": 8191,
"s_max": 8192
}
},
"speculative_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=1024,pos=1023,chunk_size=128,kv_dtype=bf16": {
"kernel": "speculative_decode",
"min_bytes": 548864,
"n150": {
"bound": "compute",
"compute_us": 39.1648,
"dram_bytes": 1071104,
"dram_us": 3.7191,
"handoff_us": 15.6,
"launch_us": 2.1,
"launches": 3,
"model_us": 56.8648,
"noc_us": 0.0,
"ratio_to_dram": 15.2899,
"useful_gbps": 9.65
},
"p150": {
"bound": "compute",
"compute_us": 26.7108,
"dram_bytes": 1071104,
"dram_us": 2.092,
"handoff_us": 8.6667,
"launch_us": 2.1,
"launches": 3,
"model_us": 37.4775,
"noc_us": 0.0,
"ratio_to_dram": 17.9147,
"useful_gbps": 14.65
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bf16",
"n_kv": 2,
"n_q": 4,
"pos": 1023,
"s_max": 1024
}
},
"speculative_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=1024,pos=1023,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "speculative_decode",
"min_bytes": 303104,
"n150": {
"bound": "compute",
"compute_us": 45.3408,
"dram_bytes": 825344,
"dram_us": 2.8658,
"handoff_us": 16.24,
"launch_us": 2.1,
"launches": 3,
"model_us": 63.6808,
"noc_us": 0.0,
"ratio_to_dram": 22.2211,
"useful_gbps": 4.76
},
"p150": {
"bound": "compute",
"compute_us": 30.9917,
"dram_bytes": 825344,
"dram_us": 1.612,
"handoff_us": 9.0222,
"launch_us": 2.1,
"launches": 3,
"model_us": 42.1139,
"noc_us": 0.0,
"ratio_to_dram": 26.1253,
"useful_gbps": 7.2
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bfp8_b",
"n_kv": 2,
"n_q": 4,
"pos": 1023,
"s_max": 1024
}
},
"speculative_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=2048,pos=2047,chunk_size=128,kv_dtype=bf16": {
"kernel": "speculative_decode",
"min_bytes": 1073152,
"n150": {
"bound": "compute",
"compute_us": 48.6508,
"dram_bytes": 2070528,
"dram_us": 7.1893,
"handoff_us": 19.44,
"launch_us": 2.1,
"launches": 3,
"model_us": 70.1908,
"noc_us": 0.0,
"ratio_to_dram": 9.7632,
"useful_gbps": 15.29
},
"p150": {
"bound": "compute",
"compute_us": 33.517,
"dram_bytes": 2070528,
"dram_us": 4.044,
"handoff_us": 10.8,
"launch_us": 2.1,
"launches": 3,
"model_us": 46.417,
"noc_us": 0.0,
"ratio_to_dram": 11.478,
"useful_gbps": 23.12
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bf16",
"n_kv": 2,
"n_q": 4,
"pos": 2047,
"s_max": 2048
}
},
"speculative_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=2048,pos=2047,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "speculative_decode",
"min_bytes": 581632,
"n150": {
"bound": "compute",
"compute_us": 54.8268,
"dram_bytes": 1579008,
"dram_us": 5.4827,
"handoff_us": 20.08,
"launch_us": 2.1,
"launches": 3,
"model_us": 77.0068,
"noc_us": 0.0,
"ratio_to_dram": 14.0455,
"useful_gbps": 7.55
},
"p150": {
"bound": "compute",
"compute_us": 37.7979,
"dram_bytes": 1579008,
"dram_us": 3.084,
"handoff_us": 11.1556,
"launch_us": 2.1,
"launches": 3,
"model_us": 51.0535,
"noc_us": 0.0,
"ratio_to_dram": 16.5543,
"useful_gbps": 11.39
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bfp8_b",
"n_kv": 2,
"n_q": 4,
"pos": 2047,
"s_max": 2048
}
},
"speculative_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=256,pos=255,chunk_size=128,kv_dtype=bf16": {
"kernel": "speculative_decode",
"min_bytes": 155648,
"n150": {
"bound": "compute",
"compute_us": 28.8795,
"dram_bytes": 305152,
"dram_us": 1.0596,
"handoff_us": 11.44,
"launch_us": 2.1,
"launches": 3,
"model_us": 42.4195,
"noc_us": 0.0,
"ratio_to_dram": 40.0352,
"useful_gbps": 3.67
},
"p150": {
"bound": "compute",
"compute_us": 19.9064,
"dram_bytes": 305152,
"dram_us": 0.596,
"handoff_us": 6.3556,
"launch_us": 2.1,
"launches": 3,
"model_us": 28.3619,
"noc_us": 0.0,
"ratio_to_dram": 47.5871,
"useful_gbps": 5.49
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bf16",
"n_kv": 2,
"n_q": 4,
"pos": 255,
"s_max": 256
}
},
"speculative_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=256,pos=255,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "speculative_decode",
"min_bytes": 94208,
"n150": {
"bound": "compute",
"compute_us": 35.0555,
"dram_bytes": 243712,
"dram_us": 0.8462,
"handoff_us": 12.08,
"launch_us": 2.1,
"launches": 3,
"model_us": 49.2355,
"noc_us": 0.0,
"ratio_to_dram": 58.1827,
"useful_gbps": 1.91
},
"p150": {
"bound": "compute",
"compute_us": 24.1873,
"dram_bytes": 243712,
"dram_us": 0.476,
"handoff_us": 6.7111,
"launch_us": 2.1,
"launches": 3,
"model_us": 32.9984,
"noc_us": 0.0,
"ratio_to_dram": 69.3243,
"useful_gbps": 2.85
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bfp8_b",
"n_kv": 2,
"n_q": 4,
"pos": 255,
"s_max": 256
}
},
"speculative_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=4096,pos=4095,chunk_size=128,kv_dtype=bf16": {
"kernel": "speculative_decode",
"min_bytes": 2121728,
"n150": {
"bound": "compute",
"compute_us": 64.9343,
"dram_bytes": 3475456,
"dram_us": 12.0676,
"handoff_us": 23.52,
"launch_us": 2.1,
"launches": 3,
"model_us": 90.5543,
"noc_us": 0.0,
"ratio_to_dram": 7.5039,
"useful_gbps": 23.43
},
"p150": {
"bound": "compute",
"compute_us": 45.239,
"dram_bytes": 3475456,
"dram_us": 6.788,
"handoff_us": 13.0667,
"launch_us": 2.1,
"launches": 3,
"model_us": 60.4057,
"noc_us": 0.0,
"ratio_to_dram": 8.8989,
"useful_gbps": 35.12
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bf16",
"n_kv": 2,
"n_q": 4,
"pos": 4095,
"s_max": 4096
}
},
"speculative_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=4096,pos=4095,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "speculative_decode",
"min_bytes": 1138688,
"n150": {
"bound": "compute",
"compute_us": 73.7988,
"dram_bytes": 3086336,
"dram_us": 10.7164,
"handoff_us": 27.76,
"launch_us": 2.1,
"launches": 3,
"model_us": 103.6588,
"noc_us": 0.0,
"ratio_to_dram": 9.6729,
"useful_gbps": 10.98
},
"p150": {
"bound": "compute",
"compute_us": 51.4104,
"dram_bytes": 3086336,
"dram_us": 6.028,
"handoff_us": 15.4222,
"launch_us": 2.1,
"launches": 3,
"model_us": 68.9326,
"noc_us": 0.0,
"ratio_to_dram": 11.4354,
"useful_gbps": 16.52
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bfp8_b",
"n_kv": 2,
"n_q": 4,
"pos": 4095,
"s_max": 4096
}
},
"speculative_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=512,pos=511,chunk_size=128,kv_dtype=bf16": {
"kernel": "speculative_decode",
"min_bytes": 286720,
"n150": {
"bound": "compute",
"compute_us": 34.4218,
"dram_bytes": 571392,
"dram_us": 1.984,
"handoff_us": 13.68,
"launch_us": 2.1,
"launches": 3,
"model_us": 50.2018,
"noc_us": 0.0,
"ratio_to_dram": 25.3033,
"useful_gbps": 5.71
},
"p150": {
"bound": "compute",
"compute_us": 23.3077,
"dram_bytes": 571392,
"dram_us": 1.116,
"handoff_us": 7.6,
"launch_us": 2.1,
"launches": 3,
"model_us": 33.0077,
"noc_us": 0.0,
"ratio_to_dram": 29.5768,
"useful_gbps": 8.69
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bf16",
"n_kv": 2,
"n_q": 4,
"pos": 511,
"s_max": 512
}
},
"speculative_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=512,pos=511,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "speculative_decode",
"min_bytes": 163840,
"n150": {
"bound": "compute",
"compute_us": 40.5978,
"dram_bytes": 448512,
"dram_us": 1.5573,
"handoff_us": 14.32,
"launch_us": 2.1,
"launches": 3,
"model_us": 57.0178,
"noc_us": 0.0,
"ratio_to_dram": 36.6125,
"useful_gbps": 2.87
},
"p150": {
"bound": "compute",
"compute_us": 27.5886,
"dram_bytes": 448512,
"dram_us": 0.876,
"handoff_us": 7.9556,
"launch_us": 2.1,
"launches": 3,
"model_us": 37.6441,
"noc_us": 0.0,
"ratio_to_dram": 42.9728,
"useful_gbps": 4.35
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bfp8_b",
"n_kv": 2,
"n_q": 4,
"pos": 511,
"s_max": 512
}
},
"speculative_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=8192,pos=8191,chunk_size=128,kv_dtype=bf16": {
"kernel": "speculative_decode",
"min_bytes": 4218880,
"n150": {
"bound": "compute",
"compute_us": 88.4623,
"dram_bytes": 6285312,
"dram_us": 21.824,
"handoff_us": 30.56,
"launch_us": 2.1,
"launches": 3,
"model_us": 121.1223,
"noc_us": 0.0,
"ratio_to_dram": 5.55,
"useful_gbps": 34.83
},
"p150": {
"bound": "compute",
"compute_us": 62.1436,
"dram_bytes": 6285312,
"dram_us": 12.276,
"handoff_us": 16.9778,
"launch_us": 2.1,
"launches": 3,
"model_us": 81.2214,
"noc_us": 0.0,
"ratio_to_dram": 6.6163,
"useful_gbps": 51.94
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bf16",
"n_kv": 2,
"n_q": 4,
"pos": 8191,
"s_max": 8192
}
},
"speculative_decode:batch=1,n_q=4,n_kv=2,head_dim=64,s_max=8192,pos=8191,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "speculative_decode",
"min_bytes": 2252800,
"n150": {
"bound": "compute",
"compute_us": 100.2848,
"dram_bytes": 4913152,
"dram_us": 17.0596,
"handoff_us": 35.04,
"launch_us": 2.1,
"launches": 3,
"model_us": 137.4248,
"noc_us": 0.0,
"ratio_to_dram": 8.0556,
"useful_gbps": 16.39
},
"p150": {
"bound": "compute",
"compute_us": 70.3775,
"dram_bytes": 4913152,
"dram_us": 9.596,
"handoff_us": 19.4667,
"launch_us": 2.1,
"launches": 3,
"model_us": 91.9441,
"noc_us": 0.0,
"ratio_to_dram": 9.5815,
"useful_gbps": 24.5
},
"params": {
"batch": 1,
"chunk_size": 128,
"head_dim": 64,
"kv_dtype": "bfp8_b",
"n_kv": 2,
"n_q": 4,
"pos": 8191,
"s_max": 8192
}
}
}
}
""")
