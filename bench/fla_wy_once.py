# bench/fla_wy_once.py — three fused chunk WY calls at the issue-8 shape, for profiling one launch with
# Nsight Compute (bench/gpu_device_run.sh wyncu); inputs as bench/fla_wy_compare.py.
import sys, torch, triscan
sys.path.insert(0, "bench")
from fla_wy_compare import make_inputs
k, v, beta, g = make_inputs(4, 16384, 32, 128, -0.1, "gaussian", 1)
for _ in range(3):
    triscan.chunk_gated_delta_rule_fwd_intra(k, v, g, beta, status="ignore", output_inverse=False)
torch.cuda.synchronize()
