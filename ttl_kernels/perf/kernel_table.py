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
"note": "contexts above 32K are extrapolated by lookup() from 16K and 32K (the model is affine in the context there: its 8K->16K and 16K->32K steps agree to 0.01 us)"
},
"rows": {
"add_rms_norm:rows=32,cols=256,dtype=bf16,eps=1e-06,passes=1": {
"kernel": "add_rms_norm",
"min_bytes": 81920,
"n150": {
"bound": "compute",
"compute_us": 9.1997,
"dram_bytes": 83968,
"dram_us": 0.2916,
"handoff_us": 1.92,
"launch_us": 0.7,
"launches": 1,
"model_us": 11.8197,
"noc_us": 0.0,
"ratio_to_dram": 40.5401,
"useful_gbps": 6.93
},
"p150": {
"bound": "compute",
"compute_us": 6.4931,
"dram_bytes": 83968,
"dram_us": 0.164,
"handoff_us": 1.0667,
"launch_us": 0.7,
"launches": 1,
"model_us": 8.2598,
"noc_us": 0.0,
"ratio_to_dram": 50.3645,
"useful_gbps": 9.92
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
"compute_us": 90.7547,
"dram_bytes": 1312768,
"dram_us": 4.5582,
"handoff_us": 17.52,
"launch_us": 0.7,
"launches": 1,
"model_us": 108.9747,
"noc_us": 0.0,
"ratio_to_dram": 23.9073,
"useful_gbps": 12.03
},
"p150": {
"bound": "compute",
"compute_us": 64.0109,
"dram_bytes": 1312768,
"dram_us": 2.564,
"handoff_us": 9.7333,
"launch_us": 0.7,
"launches": 1,
"model_us": 74.4442,
"noc_us": 0.0,
"ratio_to_dram": 29.0344,
"useful_gbps": 17.61
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
"compute_us": 90.7547,
"dram_bytes": 1312768,
"dram_us": 4.5582,
"handoff_us": 17.52,
"launch_us": 0.7,
"launches": 1,
"model_us": 108.9747,
"noc_us": 0.0,
"ratio_to_dram": 23.9073,
"useful_gbps": 12.03
},
"p150": {
"bound": "compute",
"compute_us": 64.0109,
"dram_bytes": 1312768,
"dram_us": 2.564,
"handoff_us": 9.7333,
"launch_us": 0.7,
"launches": 1,
"model_us": 74.4442,
"noc_us": 0.0,
"ratio_to_dram": 29.0344,
"useful_gbps": 17.61
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
"compute_us": 68.7105,
"dram_bytes": 8798208,
"dram_us": 30.5493,
"handoff_us": 21.84,
"launch_us": 1.4,
"launches": 2,
"model_us": 91.9505,
"noc_us": 0.0,
"ratio_to_dram": 3.0099,
"useful_gbps": 47.04
},
"p150": {
"bound": "compute",
"compute_us": 47.6423,
"dram_bytes": 8798208,
"dram_us": 17.184,
"handoff_us": 12.1333,
"launch_us": 1.4,
"launches": 2,
"model_us": 61.1756,
"noc_us": 0.0,
"ratio_to_dram": 3.56,
"useful_gbps": 70.7
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
"compute_us": 68.7105,
"dram_bytes": 6832128,
"dram_us": 23.7227,
"handoff_us": 21.84,
"launch_us": 1.4,
"launches": 2,
"model_us": 91.9505,
"noc_us": 0.0,
"ratio_to_dram": 3.8761,
"useful_gbps": 25.66
},
"p150": {
"bound": "compute",
"compute_us": 47.6423,
"dram_bytes": 6832128,
"dram_us": 13.344,
"handoff_us": 12.1333,
"launch_us": 1.4,
"launches": 2,
"model_us": 61.1756,
"noc_us": 0.0,
"ratio_to_dram": 4.5845,
"useful_gbps": 38.57
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
"bound": "compute",
"compute_us": 509.463,
"dram_bytes": 71712768,
"dram_us": 249.0027,
"handoff_us": 103.44,
"launch_us": 1.4,
"launches": 2,
"model_us": 614.303,
"noc_us": 0.0,
"ratio_to_dram": 2.4671,
"useful_gbps": 109.46
},
"p150": {
"bound": "compute",
"compute_us": 218.8767,
"dram_bytes": 76169216,
"dram_us": 148.768,
"handoff_us": 40.7556,
"launch_us": 1.4,
"launches": 2,
"model_us": 261.0323,
"noc_us": 0.0,
"ratio_to_dram": 1.7546,
"useful_gbps": 257.59
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
"compute_us": 509.463,
"dram_bytes": 40255488,
"dram_us": 139.776,
"handoff_us": 103.44,
"launch_us": 1.4,
"launches": 2,
"model_us": 614.303,
"noc_us": 0.0,
"ratio_to_dram": 4.3949,
"useful_gbps": 58.25
},
"p150": {
"bound": "compute",
"compute_us": 218.8767,
"dram_bytes": 44711936,
"dram_us": 87.328,
"handoff_us": 40.7556,
"launch_us": 1.4,
"launches": 2,
"model_us": 261.0323,
"noc_us": 0.0,
"ratio_to_dram": 2.9891,
"useful_gbps": 137.08
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
"bound": "compute",
"compute_us": 98.094,
"dram_bytes": 12992512,
"dram_us": 45.1129,
"handoff_us": 27.28,
"launch_us": 1.4,
"launches": 2,
"model_us": 126.774,
"noc_us": 0.0,
"ratio_to_dram": 2.8102,
"useful_gbps": 67.2
},
"p150": {
"bound": "compute",
"compute_us": 73.269,
"dram_bytes": 17448960,
"dram_us": 34.08,
"handoff_us": 19.6,
"launch_us": 1.4,
"launches": 2,
"model_us": 97.7256,
"noc_us": 0.0,
"ratio_to_dram": 2.8675,
"useful_gbps": 87.18
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
"compute_us": 98.094,
"dram_bytes": 9060352,
"dram_us": 31.4596,
"handoff_us": 27.28,
"launch_us": 1.4,
"launches": 2,
"model_us": 126.774,
"noc_us": 0.0,
"ratio_to_dram": 4.0297,
"useful_gbps": 36.19
},
"p150": {
"bound": "compute",
"compute_us": 73.269,
"dram_bytes": 13516800,
"dram_us": 26.4,
"handoff_us": 19.6,
"launch_us": 1.4,
"launches": 2,
"model_us": 94.269,
"noc_us": 0.0,
"ratio_to_dram": 3.5708,
"useful_gbps": 48.66
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
"compute_us": 41.9079,
"dram_bytes": 2310144,
"dram_us": 8.0213,
"handoff_us": 11.76,
"launch_us": 1.4,
"launches": 2,
"model_us": 55.0679,
"noc_us": 0.0,
"ratio_to_dram": 6.8652,
"useful_gbps": 21.42
},
"p150": {
"bound": "compute",
"compute_us": 28.4223,
"dram_bytes": 2310144,
"dram_us": 4.512,
"handoff_us": 6.5333,
"launch_us": 1.4,
"launches": 2,
"model_us": 36.3556,
"noc_us": 0.0,
"ratio_to_dram": 8.0575,
"useful_gbps": 32.45
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
"compute_us": 41.9079,
"dram_bytes": 1818624,
"dram_us": 6.3147,
"handoff_us": 11.76,
"launch_us": 1.4,
"launches": 2,
"model_us": 55.0679,
"noc_us": 0.0,
"ratio_to_dram": 8.7206,
"useful_gbps": 12.5
},
"p150": {
"bound": "compute",
"compute_us": 28.4223,
"dram_bytes": 1818624,
"dram_us": 3.552,
"handoff_us": 6.5333,
"launch_us": 1.4,
"launches": 2,
"model_us": 36.3556,
"noc_us": 0.0,
"ratio_to_dram": 10.2353,
"useful_gbps": 18.93
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
"min_bytes": null,
"n150": {
"bound": "compute",
"compute_us": 979.599,
"dram_bytes": 138821632,
"dram_us": 482.02,
"handoff_us": 190.48,
"launch_us": 1.4,
"launches": 2,
"model_us": 1171.479,
"noc_us": 0.0,
"ratio_to_dram": 2.43,
"useful_gbps": null
},
"p150": {
"bound": "compute",
"compute_us": 385.286,
"dram_bytes": 143278080,
"dram_us": 279.84,
"handoff_us": 64.933,
"launch_us": 1.4,
"launches": 2,
"model_us": 451.619,
"noc_us": 0.0,
"ratio_to_dram": 1.614,
"useful_gbps": null
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
},
"source": "bench/attention.py --contexts 1024,32768 (the same instance and op counts; fields rounded to 3 decimals)"
},
"flash_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=32768,pos=32767,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "flash_decode",
"min_bytes": null,
"n150": {
"bound": "compute",
"compute_us": 979.599,
"dram_bytes": 75907072,
"dram_us": 263.566,
"handoff_us": 190.48,
"launch_us": 1.4,
"launches": 2,
"model_us": 1171.479,
"noc_us": 0.0,
"ratio_to_dram": 4.445,
"useful_gbps": null
},
"p150": {
"bound": "compute",
"compute_us": 385.286,
"dram_bytes": 80363520,
"dram_us": 156.96,
"handoff_us": 64.933,
"launch_us": 1.4,
"launches": 2,
"model_us": 451.619,
"noc_us": 0.0,
"ratio_to_dram": 2.877,
"useful_gbps": null
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
},
"source": "bench/attention.py --contexts 1024,32768 (the same instance and op counts; fields rounded to 3 decimals)"
},
"flash_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=4096,pos=4095,chunk_size=128,kv_dtype=bf16": {
"kernel": "flash_decode",
"min_bytes": 16908288,
"n150": {
"bound": "compute",
"compute_us": 156.861,
"dram_bytes": 21381120,
"dram_us": 74.24,
"handoff_us": 38.16,
"launch_us": 1.4,
"launches": 2,
"model_us": 196.421,
"noc_us": 0.0,
"ratio_to_dram": 2.6458,
"useful_gbps": 86.08
},
"p150": {
"bound": "compute",
"compute_us": 94.0701,
"dram_bytes": 25837568,
"dram_us": 50.464,
"handoff_us": 22.6222,
"launch_us": 1.4,
"launches": 2,
"model_us": 118.0923,
"noc_us": 0.0,
"ratio_to_dram": 2.3401,
"useful_gbps": 143.18
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
"compute_us": 156.861,
"dram_bytes": 13516800,
"dram_us": 46.9333,
"handoff_us": 38.16,
"launch_us": 1.4,
"launches": 2,
"model_us": 196.421,
"noc_us": 0.0,
"ratio_to_dram": 4.1851,
"useful_gbps": 46.04
},
"p150": {
"bound": "compute",
"compute_us": 94.0701,
"dram_bytes": 17973248,
"dram_us": 35.104,
"handoff_us": 22.6222,
"launch_us": 1.4,
"launches": 2,
"model_us": 118.0923,
"noc_us": 0.0,
"ratio_to_dram": 3.3641,
"useful_gbps": 76.58
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
"compute_us": 50.8421,
"dram_bytes": 4472832,
"dram_us": 15.5307,
"handoff_us": 15.12,
"launch_us": 1.4,
"launches": 2,
"model_us": 67.3621,
"noc_us": 0.0,
"ratio_to_dram": 4.3374,
"useful_gbps": 33.08
},
"p150": {
"bound": "compute",
"compute_us": 34.829,
"dram_bytes": 4472832,
"dram_us": 8.736,
"handoff_us": 8.4,
"launch_us": 1.4,
"launches": 2,
"model_us": 44.629,
"noc_us": 0.0,
"ratio_to_dram": 5.1086,
"useful_gbps": 49.93
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
"compute_us": 50.8421,
"dram_bytes": 3489792,
"dram_us": 12.1173,
"handoff_us": 15.12,
"launch_us": 1.4,
"launches": 2,
"model_us": 67.3621,
"noc_us": 0.0,
"ratio_to_dram": 5.5592,
"useful_gbps": 18.48
},
"p150": {
"bound": "compute",
"compute_us": 34.829,
"dram_bytes": 3489792,
"dram_us": 6.816,
"handoff_us": 8.4,
"launch_us": 1.4,
"launches": 2,
"model_us": 44.629,
"noc_us": 0.0,
"ratio_to_dram": 6.5477,
"useful_gbps": 27.9
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
"bound": "compute",
"compute_us": 274.395,
"dram_bytes": 38158336,
"dram_us": 132.4942,
"handoff_us": 59.92,
"launch_us": 1.4,
"launches": 2,
"model_us": 335.715,
"noc_us": 0.0,
"ratio_to_dram": 2.5338,
"useful_gbps": 100.34
},
"p150": {
"bound": "compute",
"compute_us": 135.6723,
"dram_bytes": 42614784,
"dram_us": 83.232,
"handoff_us": 28.6667,
"launch_us": 1.4,
"launches": 2,
"model_us": 165.739,
"noc_us": 0.0,
"ratio_to_dram": 1.9913,
"useful_gbps": 203.24
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
"compute_us": 274.395,
"dram_bytes": 22429696,
"dram_us": 77.8809,
"handoff_us": 59.92,
"launch_us": 1.4,
"launches": 2,
"model_us": 335.715,
"noc_us": 0.0,
"ratio_to_dram": 4.3106,
"useful_gbps": 53.49
},
"p150": {
"bound": "compute",
"compute_us": 135.6723,
"dram_bytes": 26886144,
"dram_us": 52.512,
"handoff_us": 28.6667,
"launch_us": 1.4,
"launches": 2,
"model_us": 165.739,
"noc_us": 0.0,
"ratio_to_dram": 3.1562,
"useful_gbps": 108.34
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
"compute_us": 56.1555,
"dram_bytes": 1470464,
"dram_us": 5.1058,
"handoff_us": 21.84,
"launch_us": 1.4,
"launches": 2,
"model_us": 79.3955,
"noc_us": 0.0,
"ratio_to_dram": 15.5501,
"useful_gbps": 6.81
},
"p150": {
"bound": "compute",
"compute_us": 38.9577,
"dram_bytes": 1470464,
"dram_us": 2.872,
"handoff_us": 12.1333,
"launch_us": 1.4,
"launches": 2,
"model_us": 52.491,
"noc_us": 0.0,
"ratio_to_dram": 18.2768,
"useful_gbps": 10.3
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
"compute_us": 56.1555,
"dram_bytes": 1224704,
"dram_us": 4.2524,
"handoff_us": 21.84,
"launch_us": 1.4,
"launches": 2,
"model_us": 79.3955,
"noc_us": 0.0,
"ratio_to_dram": 18.6706,
"useful_gbps": 3.71
},
"p150": {
"bound": "compute",
"compute_us": 38.9577,
"dram_bytes": 1224704,
"dram_us": 2.392,
"handoff_us": 12.1333,
"launch_us": 1.4,
"launches": 2,
"model_us": 52.491,
"noc_us": 0.0,
"ratio_to_dram": 21.9444,
"useful_gbps": 5.62
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
"compute_us": 88.2843,
"dram_bytes": 2912256,
"dram_us": 10.112,
"handoff_us": 35.28,
"launch_us": 1.4,
"launches": 2,
"model_us": 124.9643,
"noc_us": 0.0,
"ratio_to_dram": 12.358,
"useful_gbps": 8.52
},
"p150": {
"bound": "compute",
"compute_us": 62.1322,
"dram_bytes": 2912256,
"dram_us": 5.688,
"handoff_us": 19.6,
"launch_us": 1.4,
"launches": 2,
"model_us": 83.1322,
"noc_us": 0.0,
"ratio_to_dram": 14.6154,
"useful_gbps": 12.81
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
"compute_us": 88.2843,
"dram_bytes": 2420736,
"dram_us": 8.4053,
"handoff_us": 35.28,
"launch_us": 1.4,
"launches": 2,
"model_us": 124.9643,
"noc_us": 0.0,
"ratio_to_dram": 14.8673,
"useful_gbps": 4.59
},
"p150": {
"bound": "compute",
"compute_us": 62.1322,
"dram_bytes": 2420736,
"dram_us": 4.728,
"handoff_us": 19.6,
"launch_us": 1.4,
"launches": 2,
"model_us": 83.1322,
"noc_us": 0.0,
"ratio_to_dram": 17.583,
"useful_gbps": 6.9
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
"compute_us": 32.0589,
"dram_bytes": 389120,
"dram_us": 1.3511,
"handoff_us": 11.76,
"launch_us": 1.4,
"launches": 2,
"model_us": 45.2189,
"noc_us": 0.0,
"ratio_to_dram": 33.4679,
"useful_gbps": 3.26
},
"p150": {
"bound": "compute",
"compute_us": 21.5768,
"dram_bytes": 389120,
"dram_us": 0.76,
"handoff_us": 6.5333,
"launch_us": 1.4,
"launches": 2,
"model_us": 29.5101,
"noc_us": 0.0,
"ratio_to_dram": 38.8291,
"useful_gbps": 5.0
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
"compute_us": 32.0589,
"dram_bytes": 327680,
"dram_us": 1.1378,
"handoff_us": 11.76,
"launch_us": 1.4,
"launches": 2,
"model_us": 45.2189,
"noc_us": 0.0,
"ratio_to_dram": 39.7432,
"useful_gbps": 1.9
},
"p150": {
"bound": "compute",
"compute_us": 21.5768,
"dram_bytes": 327680,
"dram_us": 0.64,
"handoff_us": 6.5333,
"launch_us": 1.4,
"launches": 2,
"model_us": 29.5101,
"noc_us": 0.0,
"ratio_to_dram": 46.1096,
"useful_gbps": 2.91
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
"compute_us": 152.5419,
"dram_bytes": 5795840,
"dram_us": 20.1244,
"handoff_us": 62.16,
"launch_us": 1.4,
"launches": 2,
"model_us": 216.1019,
"noc_us": 0.0,
"ratio_to_dram": 10.7383,
"useful_gbps": 9.78
},
"p150": {
"bound": "compute",
"compute_us": 108.4813,
"dram_bytes": 5795840,
"dram_us": 11.32,
"handoff_us": 34.5333,
"launch_us": 1.4,
"launches": 2,
"model_us": 144.4146,
"noc_us": 0.0,
"ratio_to_dram": 12.7575,
"useful_gbps": 14.64
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
"compute_us": 152.5419,
"dram_bytes": 4812800,
"dram_us": 16.7111,
"handoff_us": 62.16,
"launch_us": 1.4,
"launches": 2,
"model_us": 216.1019,
"noc_us": 0.0,
"ratio_to_dram": 12.9316,
"useful_gbps": 5.23
},
"p150": {
"bound": "compute",
"compute_us": 108.4813,
"dram_bytes": 4812800,
"dram_us": 9.4,
"handoff_us": 34.5333,
"launch_us": 1.4,
"launches": 2,
"model_us": 144.4146,
"noc_us": 0.0,
"ratio_to_dram": 15.3633,
"useful_gbps": 7.83
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
"compute_us": 40.0911,
"dram_bytes": 749568,
"dram_us": 2.6027,
"handoff_us": 15.12,
"launch_us": 1.4,
"launches": 2,
"model_us": 56.6111,
"noc_us": 0.0,
"ratio_to_dram": 21.7512,
"useful_gbps": 4.92
},
"p150": {
"bound": "compute",
"compute_us": 27.3704,
"dram_bytes": 749568,
"dram_us": 1.464,
"handoff_us": 8.4,
"launch_us": 1.4,
"launches": 2,
"model_us": 37.1704,
"noc_us": 0.0,
"ratio_to_dram": 25.3896,
"useful_gbps": 7.49
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
"compute_us": 40.0911,
"dram_bytes": 626688,
"dram_us": 2.176,
"handoff_us": 15.12,
"launch_us": 1.4,
"launches": 2,
"model_us": 56.6111,
"noc_us": 0.0,
"ratio_to_dram": 26.0161,
"useful_gbps": 2.75
},
"p150": {
"bound": "compute",
"compute_us": 27.3704,
"dram_bytes": 626688,
"dram_us": 1.224,
"handoff_us": 8.4,
"launch_us": 1.4,
"launches": 2,
"model_us": 37.1704,
"noc_us": 0.0,
"ratio_to_dram": 30.368,
"useful_gbps": 4.19
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
"compute_us": 173.6224,
"dram_bytes": 7892992,
"dram_us": 27.4062,
"handoff_us": 67.6,
"launch_us": 1.4,
"launches": 2,
"model_us": 242.6224,
"noc_us": 0.0,
"ratio_to_dram": 8.8528,
"useful_gbps": 17.35
},
"p150": {
"bound": "compute",
"compute_us": 201.1793,
"dram_bytes": 11563008,
"dram_us": 22.584,
"handoff_us": 64.4,
"launch_us": 1.4,
"launches": 2,
"model_us": 266.9793,
"noc_us": 0.0,
"ratio_to_dram": 11.8216,
"useful_gbps": 15.77
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
"compute_us": 173.6224,
"dram_bytes": 5926912,
"dram_us": 20.5796,
"handoff_us": 67.6,
"launch_us": 1.4,
"launches": 2,
"model_us": 242.6224,
"noc_us": 0.0,
"ratio_to_dram": 11.7895,
"useful_gbps": 9.25
},
"p150": {
"bound": "compute",
"compute_us": 201.1793,
"dram_bytes": 9596928,
"dram_us": 18.744,
"handoff_us": 64.4,
"launch_us": 1.4,
"launches": 2,
"model_us": 266.9793,
"noc_us": 0.0,
"ratio_to_dram": 14.2435,
"useful_gbps": 8.41
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
"compute_us": 43.3064,
"dram_bytes": 544768,
"dram_us": 1.8916,
"handoff_us": 13.28,
"launch_us": 0.7,
"launches": 1,
"model_us": 57.2864,
"noc_us": 0.0,
"ratio_to_dram": 30.2853,
"useful_gbps": 9.3
},
"p150": {
"bound": "compute",
"compute_us": 30.9399,
"dram_bytes": 544768,
"dram_us": 1.064,
"handoff_us": 7.3778,
"launch_us": 0.7,
"launches": 1,
"model_us": 39.0176,
"noc_us": 0.0,
"ratio_to_dram": 36.6707,
"useful_gbps": 13.65
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
"compute_us": 21.9752,
"dram_bytes": 141312,
"dram_us": 0.4907,
"handoff_us": 6.88,
"launch_us": 0.7,
"launches": 1,
"model_us": 29.5552,
"noc_us": 0.0,
"ratio_to_dram": 60.2348,
"useful_gbps": 4.71
},
"p150": {
"bound": "compute",
"compute_us": 15.6901,
"dram_bytes": 141312,
"dram_us": 0.276,
"handoff_us": 3.8222,
"launch_us": 0.7,
"launches": 1,
"model_us": 20.2123,
"noc_us": 0.0,
"ratio_to_dram": 73.233,
"useful_gbps": 6.89
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
"compute_us": 7.0253,
"dram_bytes": 51200,
"dram_us": 0.1778,
"handoff_us": 1.76,
"launch_us": 0.7,
"launches": 1,
"model_us": 9.4853,
"noc_us": 0.0,
"ratio_to_dram": 53.3548,
"useful_gbps": 5.18
},
"p150": {
"bound": "compute",
"compute_us": 4.8824,
"dram_bytes": 51200,
"dram_us": 0.1,
"handoff_us": 0.9778,
"launch_us": 0.7,
"launches": 1,
"model_us": 6.5602,
"noc_us": 0.0,
"ratio_to_dram": 65.6022,
"useful_gbps": 7.49
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
"compute_us": 55.9643,
"dram_bytes": 788480,
"dram_us": 2.7378,
"handoff_us": 14.96,
"launch_us": 0.7,
"launches": 1,
"model_us": 71.6243,
"noc_us": 0.0,
"ratio_to_dram": 26.1615,
"useful_gbps": 10.98
},
"p150": {
"bound": "compute",
"compute_us": 38.2402,
"dram_bytes": 788480,
"dram_us": 1.54,
"handoff_us": 8.3111,
"launch_us": 0.7,
"launches": 1,
"model_us": 47.2513,
"noc_us": 0.0,
"ratio_to_dram": 30.6827,
"useful_gbps": 16.64
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
"compute_us": 55.9643,
"dram_bytes": 788480,
"dram_us": 2.7378,
"handoff_us": 14.96,
"launch_us": 0.7,
"launches": 1,
"model_us": 71.6243,
"noc_us": 0.0,
"ratio_to_dram": 26.1615,
"useful_gbps": 10.98
},
"p150": {
"bound": "compute",
"compute_us": 38.2402,
"dram_bytes": 788480,
"dram_us": 1.54,
"handoff_us": 8.3111,
"launch_us": 0.7,
"launches": 1,
"model_us": 47.2513,
"noc_us": 0.0,
"ratio_to_dram": 30.6827,
"useful_gbps": 16.64
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
"bound": "compute",
"compute_us": 21.962,
"dram_bytes": 675840,
"dram_us": 2.3467,
"handoff_us": 6.96,
"launch_us": 0.7,
"launches": 1,
"model_us": 29.622,
"noc_us": 0.0,
"ratio_to_dram": 12.623,
"useful_gbps": 22.4
},
"p150": {
"bound": "compute",
"compute_us": 15.8824,
"dram_bytes": 675840,
"dram_us": 1.32,
"handoff_us": 3.8667,
"launch_us": 0.7,
"launches": 1,
"model_us": 20.449,
"noc_us": 0.0,
"ratio_to_dram": 15.4917,
"useful_gbps": 32.45
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
"bound": "compute",
"compute_us": 21.962,
"dram_bytes": 675840,
"dram_us": 2.3467,
"handoff_us": 6.96,
"launch_us": 0.7,
"launches": 1,
"model_us": 29.622,
"noc_us": 0.0,
"ratio_to_dram": 12.623,
"useful_gbps": 22.4
},
"p150": {
"bound": "compute",
"compute_us": 15.8824,
"dram_bytes": 675840,
"dram_us": 1.32,
"handoff_us": 3.8667,
"launch_us": 0.7,
"launches": 1,
"model_us": 20.449,
"noc_us": 0.0,
"ratio_to_dram": 15.4917,
"useful_gbps": 32.45
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
"bound": "compute",
"compute_us": 3.4294,
"dram_bytes": 55296,
"dram_us": 0.192,
"handoff_us": 2.48,
"launch_us": 0.7,
"launches": 1,
"model_us": 6.6094,
"noc_us": 0.0,
"ratio_to_dram": 34.424,
"useful_gbps": 8.06
},
"p150": {
"bound": "compute",
"compute_us": 2.476,
"dram_bytes": 55296,
"dram_us": 0.108,
"handoff_us": 1.3778,
"launch_us": 0.7,
"launches": 1,
"model_us": 4.5538,
"noc_us": 0.0,
"ratio_to_dram": 42.1646,
"useful_gbps": 11.69
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
"compute_us": 218.5949,
"dram_bytes": 6651904,
"dram_us": 23.0969,
"handoff_us": 68.64,
"launch_us": 1.4,
"launches": 2,
"model_us": 288.6349,
"noc_us": 0.0,
"ratio_to_dram": 12.4967,
"useful_gbps": 15.21
},
"p150": {
"bound": "compute",
"compute_us": 150.1927,
"dram_bytes": 6651904,
"dram_us": 12.992,
"handoff_us": 38.1333,
"launch_us": 1.4,
"launches": 2,
"model_us": 189.7261,
"noc_us": 0.0,
"ratio_to_dram": 14.6033,
"useful_gbps": 23.14
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
"compute_us": 218.5949,
"dram_bytes": 4685824,
"dram_us": 16.2702,
"handoff_us": 68.64,
"launch_us": 1.4,
"launches": 2,
"model_us": 288.6349,
"noc_us": 0.0,
"ratio_to_dram": 17.7401,
"useful_gbps": 8.4
},
"p150": {
"bound": "compute",
"compute_us": 150.1927,
"dram_bytes": 4685824,
"dram_us": 9.152,
"handoff_us": 38.1333,
"launch_us": 1.4,
"launches": 2,
"model_us": 189.7261,
"noc_us": 0.0,
"ratio_to_dram": 20.7306,
"useful_gbps": 12.78
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
"bound": "compute",
"compute_us": 811.4166,
"dram_bytes": 72056832,
"dram_us": 250.1973,
"handoff_us": 213.6,
"launch_us": 1.4,
"launches": 2,
"model_us": 1026.4166,
"noc_us": 0.0,
"ratio_to_dram": 4.1024,
"useful_gbps": 65.57
},
"p150": {
"bound": "compute",
"compute_us": 609.4837,
"dram_bytes": 76587008,
"dram_us": 149.584,
"handoff_us": 154.2222,
"launch_us": 1.4,
"launches": 2,
"model_us": 765.1059,
"noc_us": 0.0,
"ratio_to_dram": 5.1149,
"useful_gbps": 87.97
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
"compute_us": 811.4166,
"dram_bytes": 40599552,
"dram_us": 140.9707,
"handoff_us": 213.6,
"launch_us": 1.4,
"launches": 2,
"model_us": 1026.4166,
"noc_us": 0.0,
"ratio_to_dram": 7.2811,
"useful_gbps": 34.93
},
"p150": {
"bound": "compute",
"compute_us": 609.4837,
"dram_bytes": 45129728,
"dram_us": 88.144,
"handoff_us": 154.2222,
"launch_us": 1.4,
"launches": 2,
"model_us": 765.1059,
"noc_us": 0.0,
"ratio_to_dram": 8.6802,
"useful_gbps": 46.85
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
"bound": "compute",
"compute_us": 361.5421,
"dram_bytes": 13074432,
"dram_us": 45.3973,
"handoff_us": 122.4,
"launch_us": 1.4,
"launches": 2,
"model_us": 485.3421,
"noc_us": 0.0,
"ratio_to_dram": 10.691,
"useful_gbps": 17.69
},
"p150": {
"bound": "compute",
"compute_us": 252.6994,
"dram_bytes": 13074432,
"dram_us": 25.536,
"handoff_us": 68.0,
"launch_us": 1.4,
"launches": 2,
"model_us": 322.0994,
"noc_us": 0.0,
"ratio_to_dram": 12.6135,
"useful_gbps": 26.65
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
"compute_us": 361.5421,
"dram_bytes": 9142272,
"dram_us": 31.744,
"handoff_us": 122.4,
"launch_us": 1.4,
"launches": 2,
"model_us": 485.3421,
"noc_us": 0.0,
"ratio_to_dram": 15.2893,
"useful_gbps": 9.59
},
"p150": {
"bound": "compute",
"compute_us": 252.6994,
"dram_bytes": 9142272,
"dram_us": 17.856,
"handoff_us": 68.0,
"launch_us": 1.4,
"launches": 2,
"model_us": 322.0994,
"noc_us": 0.0,
"ratio_to_dram": 18.0387,
"useful_gbps": 14.45
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
"compute_us": 96.9869,
"dram_bytes": 1785856,
"dram_us": 6.2009,
"handoff_us": 21.28,
"launch_us": 1.4,
"launches": 2,
"model_us": 119.6669,
"noc_us": 0.0,
"ratio_to_dram": 19.2983,
"useful_gbps": 10.41
},
"p150": {
"bound": "compute",
"compute_us": 67.6926,
"dram_bytes": 1785856,
"dram_us": 3.488,
"handoff_us": 11.8222,
"launch_us": 1.4,
"launches": 2,
"model_us": 80.9148,
"noc_us": 0.0,
"ratio_to_dram": 23.1981,
"useful_gbps": 15.39
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
"compute_us": 96.9869,
"dram_bytes": 1294336,
"dram_us": 4.4942,
"handoff_us": 21.28,
"launch_us": 1.4,
"launches": 2,
"model_us": 119.6669,
"noc_us": 0.0,
"ratio_to_dram": 26.6268,
"useful_gbps": 6.3
},
"p150": {
"bound": "compute",
"compute_us": 67.6926,
"dram_bytes": 1294336,
"dram_us": 2.528,
"handoff_us": 11.8222,
"launch_us": 1.4,
"launches": 2,
"model_us": 80.9148,
"noc_us": 0.0,
"ratio_to_dram": 32.0074,
"useful_gbps": 9.31
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
"min_bytes": null,
"n150": {
"bound": "compute",
"compute_us": 1281.553,
"dram_bytes": 139165696,
"dram_us": 483.214,
"handoff_us": 300.64,
"launch_us": 1.4,
"launches": 2,
"model_us": 1583.593,
"noc_us": 0.0,
"ratio_to_dram": 3.277,
"useful_gbps": null
},
"p150": {
"bound": "compute",
"compute_us": 775.893,
"dram_bytes": 143695872,
"dram_us": 280.656,
"handoff_us": 178.4,
"launch_us": 1.4,
"launches": 2,
"model_us": 955.693,
"noc_us": 0.0,
"ratio_to_dram": 3.405,
"useful_gbps": null
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
},
"source": "bench/attention.py --contexts 1024,32768 (the same instance and op counts; fields rounded to 3 decimals)"
},
"speculative_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=32768,pos=32767,chunk_size=128,kv_dtype=bfp8_b": {
"kernel": "speculative_decode",
"min_bytes": null,
"n150": {
"bound": "compute",
"compute_us": 1281.553,
"dram_bytes": 76251136,
"dram_us": 264.761,
"handoff_us": 300.64,
"launch_us": 1.4,
"launches": 2,
"model_us": 1583.593,
"noc_us": 0.0,
"ratio_to_dram": 5.981,
"useful_gbps": null
},
"p150": {
"bound": "compute",
"compute_us": 775.893,
"dram_bytes": 80781312,
"dram_us": 157.776,
"handoff_us": 178.4,
"launch_us": 1.4,
"launches": 2,
"model_us": 955.693,
"noc_us": 0.0,
"ratio_to_dram": 6.057,
"useful_gbps": null
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
},
"source": "bench/attention.py --contexts 1024,32768 (the same instance and op counts; fields rounded to 3 decimals)"
},
"speculative_decode:batch=1,n_q=32,n_kv=8,head_dim=128,s_max=4096,pos=4095,chunk_size=128,kv_dtype=bf16": {
"kernel": "speculative_decode",
"min_bytes": 16973824,
"n150": {
"bound": "compute",
"compute_us": 458.8146,
"dram_bytes": 21725184,
"dram_us": 75.4347,
"handoff_us": 148.32,
"launch_us": 1.4,
"launches": 2,
"model_us": 608.5346,
"noc_us": 0.0,
"ratio_to_dram": 8.067,
"useful_gbps": 27.89
},
"p150": {
"bound": "compute",
"compute_us": 457.7127,
"dram_bytes": 25919488,
"dram_us": 50.624,
"handoff_us": 127.7333,
"launch_us": 1.4,
"launches": 2,
"model_us": 586.8461,
"noc_us": 0.0,
"ratio_to_dram": 11.5923,
"useful_gbps": 28.92
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
"compute_us": 458.8146,
"dram_bytes": 13860864,
"dram_us": 48.128,
"handoff_us": 148.32,
"launch_us": 1.4,
"launches": 2,
"model_us": 608.5346,
"noc_us": 0.0,
"ratio_to_dram": 12.6441,
"useful_gbps": 14.97
},
"p150": {
"bound": "compute",
"compute_us": 457.7127,
"dram_bytes": 18055168,
"dram_us": 35.264,
"handoff_us": 127.7333,
"launch_us": 1.4,
"launches": 2,
"model_us": 586.8461,
"noc_us": 0.0,
"ratio_to_dram": 16.6415,
"useful_gbps": 15.52
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
"compute_us": 147.1213,
"dram_bytes": 3440640,
"dram_us": 11.9467,
"handoff_us": 41.76,
"launch_us": 1.4,
"launches": 2,
"model_us": 190.2813,
"noc_us": 0.0,
"ratio_to_dram": 15.9276,
"useful_gbps": 12.05
},
"p150": {
"bound": "compute",
"compute_us": 98.9394,
"dram_bytes": 3440640,
"dram_us": 6.72,
"handoff_us": 23.2,
"launch_us": 1.4,
"launches": 2,
"model_us": 123.5394,
"noc_us": 0.0,
"ratio_to_dram": 18.3838,
"useful_gbps": 18.57
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
"compute_us": 147.1213,
"dram_bytes": 2457600,
"dram_us": 8.5333,
"handoff_us": 41.76,
"launch_us": 1.4,
"launches": 2,
"model_us": 190.2813,
"noc_us": 0.0,
"ratio_to_dram": 22.2986,
"useful_gbps": 6.89
},
"p150": {
"bound": "compute",
"compute_us": 98.9394,
"dram_bytes": 2457600,
"dram_us": 4.8,
"handoff_us": 23.2,
"launch_us": 1.4,
"launches": 2,
"model_us": 123.5394,
"noc_us": 0.0,
"ratio_to_dram": 25.7374,
"useful_gbps": 10.61
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
"bound": "compute",
"compute_us": 576.3486,
"dram_bytes": 38502400,
"dram_us": 133.6889,
"handoff_us": 170.08,
"launch_us": 1.4,
"launches": 2,
"model_us": 747.8286,
"noc_us": 0.0,
"ratio_to_dram": 5.5938,
"useful_gbps": 45.13
},
"p150": {
"bound": "compute",
"compute_us": 526.2793,
"dram_bytes": 43032576,
"dram_us": 84.048,
"handoff_us": 142.1333,
"launch_us": 1.4,
"launches": 2,
"model_us": 669.8126,
"noc_us": 0.0,
"ratio_to_dram": 7.9694,
"useful_gbps": 50.39
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
"compute_us": 576.3486,
"dram_bytes": 22773760,
"dram_us": 79.0756,
"handoff_us": 170.08,
"launch_us": 1.4,
"launches": 2,
"model_us": 747.8286,
"noc_us": 0.0,
"ratio_to_dram": 9.4571,
"useful_gbps": 24.1
},
"p150": {
"bound": "compute",
"compute_us": 526.2793,
"dram_bytes": 27303936,
"dram_us": 53.328,
"handoff_us": 142.1333,
"launch_us": 1.4,
"launches": 2,
"model_us": 669.8126,
"noc_us": 0.0,
"ratio_to_dram": 12.5602,
"useful_gbps": 26.91
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
"compute_us": 79.1871,
"dram_bytes": 1032192,
"dram_us": 3.584,
"handoff_us": 28.8,
"launch_us": 1.4,
"launches": 2,
"model_us": 109.3871,
"noc_us": 0.0,
"ratio_to_dram": 30.521,
"useful_gbps": 5.02
},
"p150": {
"bound": "compute",
"compute_us": 54.6609,
"dram_bytes": 1032192,
"dram_us": 2.016,
"handoff_us": 16.0,
"launch_us": 1.4,
"launches": 2,
"model_us": 72.0609,
"noc_us": 0.0,
"ratio_to_dram": 35.7445,
"useful_gbps": 7.62
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
"compute_us": 79.1871,
"dram_bytes": 786432,
"dram_us": 2.7307,
"handoff_us": 28.8,
"launch_us": 1.4,
"launches": 2,
"model_us": 109.3871,
"noc_us": 0.0,
"ratio_to_dram": 40.0588,
"useful_gbps": 2.77
},
"p150": {
"bound": "compute",
"compute_us": 54.6609,
"dram_bytes": 786432,
"dram_us": 1.536,
"handoff_us": 16.0,
"launch_us": 1.4,
"launches": 2,
"model_us": 72.0609,
"noc_us": 0.0,
"ratio_to_dram": 46.9146,
"useful_gbps": 4.21
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
"compute_us": 111.3159,
"dram_bytes": 2015232,
"dram_us": 6.9973,
"handoff_us": 42.24,
"launch_us": 1.4,
"launches": 2,
"model_us": 154.9559,
"noc_us": 0.0,
"ratio_to_dram": 22.145,
"useful_gbps": 6.93
},
"p150": {
"bound": "compute",
"compute_us": 77.8354,
"dram_bytes": 2015232,
"dram_us": 3.936,
"handoff_us": 23.4667,
"launch_us": 1.4,
"launches": 2,
"model_us": 102.7021,
"noc_us": 0.0,
"ratio_to_dram": 26.093,
"useful_gbps": 10.45
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
"compute_us": 111.3159,
"dram_bytes": 1523712,
"dram_us": 5.2907,
"handoff_us": 42.24,
"launch_us": 1.4,
"launches": 2,
"model_us": 154.9559,
"noc_us": 0.0,
"ratio_to_dram": 29.2885,
"useful_gbps": 3.75
},
"p150": {
"bound": "compute",
"compute_us": 77.8354,
"dram_bytes": 1523712,
"dram_us": 2.976,
"handoff_us": 23.4667,
"launch_us": 1.4,
"launches": 2,
"model_us": 102.7021,
"noc_us": 0.0,
"ratio_to_dram": 34.5101,
"useful_gbps": 5.66
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
"compute_us": 52.0031,
"dram_bytes": 282624,
"dram_us": 0.9813,
"handoff_us": 16.96,
"launch_us": 1.4,
"launches": 2,
"model_us": 70.3631,
"noc_us": 0.0,
"ratio_to_dram": 71.7015,
"useful_gbps": 2.21
},
"p150": {
"bound": "compute",
"compute_us": 36.2542,
"dram_bytes": 282624,
"dram_us": 0.552,
"handoff_us": 9.4222,
"launch_us": 1.4,
"launches": 2,
"model_us": 47.0764,
"noc_us": 0.0,
"ratio_to_dram": 85.2834,
"useful_gbps": 3.31
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
"compute_us": 52.0031,
"dram_bytes": 221184,
"dram_us": 0.768,
"handoff_us": 16.96,
"launch_us": 1.4,
"launches": 2,
"model_us": 70.3631,
"noc_us": 0.0,
"ratio_to_dram": 91.6186,
"useful_gbps": 1.34
},
"p150": {
"bound": "compute",
"compute_us": 36.2542,
"dram_bytes": 221184,
"dram_us": 0.432,
"handoff_us": 9.4222,
"launch_us": 1.4,
"launches": 2,
"model_us": 47.0764,
"noc_us": 0.0,
"ratio_to_dram": 108.9733,
"useful_gbps": 2.0
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
"compute_us": 175.5735,
"dram_bytes": 3981312,
"dram_us": 13.824,
"handoff_us": 69.12,
"launch_us": 1.4,
"launches": 2,
"model_us": 246.0935,
"noc_us": 0.0,
"ratio_to_dram": 17.8019,
"useful_gbps": 8.62
},
"p150": {
"bound": "compute",
"compute_us": 124.1844,
"dram_bytes": 3981312,
"dram_us": 7.776,
"handoff_us": 38.4,
"launch_us": 1.4,
"launches": 2,
"model_us": 163.9844,
"noc_us": 0.0,
"ratio_to_dram": 21.0885,
"useful_gbps": 12.94
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
"compute_us": 175.5735,
"dram_bytes": 2998272,
"dram_us": 10.4107,
"handoff_us": 69.12,
"launch_us": 1.4,
"launches": 2,
"model_us": 246.0935,
"noc_us": 0.0,
"ratio_to_dram": 23.6386,
"useful_gbps": 4.63
},
"p150": {
"bound": "compute",
"compute_us": 124.1844,
"dram_bytes": 2998272,
"dram_us": 5.856,
"handoff_us": 38.4,
"launch_us": 1.4,
"launches": 2,
"model_us": 163.9844,
"noc_us": 0.0,
"ratio_to_dram": 28.0028,
"useful_gbps": 6.94
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
"compute_us": 63.1227,
"dram_bytes": 540672,
"dram_us": 1.8773,
"handoff_us": 22.08,
"launch_us": 1.4,
"launches": 2,
"model_us": 86.6027,
"noc_us": 0.0,
"ratio_to_dram": 46.1307,
"useful_gbps": 3.31
},
"p150": {
"bound": "compute",
"compute_us": 43.0736,
"dram_bytes": 540672,
"dram_us": 1.056,
"handoff_us": 12.2667,
"launch_us": 1.4,
"launches": 2,
"model_us": 56.7403,
"noc_us": 0.0,
"ratio_to_dram": 53.7313,
"useful_gbps": 5.05
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
"compute_us": 63.1227,
"dram_bytes": 417792,
"dram_us": 1.4507,
"handoff_us": 22.08,
"launch_us": 1.4,
"launches": 2,
"model_us": 86.6027,
"noc_us": 0.0,
"ratio_to_dram": 59.6986,
"useful_gbps": 1.89
},
"p150": {
"bound": "compute",
"compute_us": 43.0736,
"dram_bytes": 417792,
"dram_us": 0.816,
"handoff_us": 12.2667,
"launch_us": 1.4,
"launches": 2,
"model_us": 56.7403,
"noc_us": 0.0,
"ratio_to_dram": 69.5347,
"useful_gbps": 2.89
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
"compute_us": 304.0887,
"dram_bytes": 7913472,
"dram_us": 27.4773,
"handoff_us": 122.88,
"launch_us": 1.4,
"launches": 2,
"model_us": 428.3687,
"noc_us": 0.0,
"ratio_to_dram": 15.5899,
"useful_gbps": 9.85
},
"p150": {
"bound": "compute",
"compute_us": 216.8825,
"dram_bytes": 7913472,
"dram_us": 15.456,
"handoff_us": 68.2667,
"launch_us": 1.4,
"launches": 2,
"model_us": 286.5492,
"noc_us": 0.0,
"ratio_to_dram": 18.5397,
"useful_gbps": 14.72
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
"compute_us": 304.0887,
"dram_bytes": 5947392,
"dram_us": 20.6507,
"handoff_us": 122.88,
"launch_us": 1.4,
"launches": 2,
"model_us": 428.3687,
"noc_us": 0.0,
"ratio_to_dram": 20.7436,
"useful_gbps": 5.26
},
"p150": {
"bound": "compute",
"compute_us": 216.8825,
"dram_bytes": 5947392,
"dram_us": 11.616,
"handoff_us": 68.2667,
"launch_us": 1.4,
"launches": 2,
"model_us": 286.5492,
"noc_us": 0.0,
"ratio_to_dram": 24.6685,
"useful_gbps": 7.86
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
