// src/wy/delta_forward.cpp — the chunkwise delta-rule forward (include/triscan/delta.hpp).
//
// Per (sequence, head), chunk by chunk, with S (dv x dk) the state at the chunk's start
// and G the in-chunk inclusive cumulative log-decay (γ = exp(G), per channel for kda):
//   W, U  = the chunk WY factors (src/wy/wy_kernels.hpp)
//   U'    = U - W S^T                               (row i: u_i - S w_i)
//   O     = (γ ⊙ Q) S^T + (Q K^T ⊙ Γ ⊙ M) U'       (M causal incl. the diagonal)
//   S    <- S Γ_C + U'^T E,  E_ic = exp(G_Cc - G_ic) k_ic
// Derivation (docs/wy.md): by induction on t within the chunk,
//   S_t = S Γ_t + sum_{i<=t} (u_i - S w_i) ((γ_t/γ_i) ⊙ k_i)^T,
// so o_t = S_t q_t = S (γ_t ⊙ q_t) + sum_{i<=t} (u_i - S w_i) sum_c q_tc k_ic exp(G_tc - G_ic).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "src/wy/wy_kernels.hpp"
#include "triscan/delta.hpp"

namespace triscan {

index_t sequence_count(const ChunkLayout& layout) {
  return layout.cu_seqlens.empty() ? layout.batch
                                   : static_cast<index_t>(layout.cu_seqlens.size()) - 1;
}

namespace {

using namespace wy_detail;

template <class V>
struct ForwardWork {
  Workspace<V> wy;
  std::vector<V> q, S, WS, Up, UpT, Qg, M, O, E, X;
};

// One (sequence, head): runs its chunks in order. `ar` rounds as options.precision says,
// `as` as the state format (storage = state_format).
template <class Ar>
Status forward_sequence(Ar& ar, Ar& as, WyFamily f, const ChunkLayout& /*layout*/,
                        const std::vector<ChunkRef>& chunks, const std::vector<index_t>& mine,
                        const Geometry& geo, const DeltaInputs<typename Ar::value_type>& in,
                        typename Ar::value_type* o, typename Ar::value_type* final_state,
                        const DeltaForwardOptions& opt, Status* statuses,
                        ForwardWork<typename Ar::value_type>& fw, PhaseTimes* times,
                        double* state_time) {
  using V = typename Ar::value_type;
  const index_t dk = geo.dk, dv = geo.dv, H = geo.H;
  const ChunkRef& first = chunks[static_cast<std::size_t>(mine.front())];
  const index_t h = first.head, kh = h * geo.Hk / H, seq = first.sequence;
  const bool pc = per_channel(f);
  const index_t state_off = (seq * H + h) * dv * dk;
  // S (dv x dk), row-major; the stored layout may be S^T.
  fw.S.assign(static_cast<std::size_t>(dv * dk), V(0));
  if (in.initial_state)
    for (index_t r = 0; r < dv; ++r)
      for (index_t c = 0; c < dk; ++c)
        fw.S[r * dk + c] = as.store(
            in.initial_state[state_off + (opt.state_transposed ? c * dv + r : r * dk + c)]);
  WyOptions wo;
  wo.method = opt.method;
  wo.precision = opt.precision;
  wo.check_accuracy = opt.check_accuracy;
  wo.cumulative_g = opt.cumulative_g;
  const WyInputs<V> wi{in.k, in.v, in.beta, in.g, nullptr, nullptr, dk, dv, geo.Hk};
  Status worst_status = Status::ok;
  bool poisoned = !std::all_of(fw.S.begin(), fw.S.end(), [](V x) { return std::isfinite(x); });
  for (index_t ci : mine) {
    const ChunkRef& c = chunks[static_cast<std::size_t>(ci)];
    const index_t m = c.size;
    Status st = wy_chunk(ar, f, c, geo, wi, wo, fw.wy, times);
    auto t0 = Clock::now();
    fw.q.resize(static_cast<std::size_t>(m * dk));
    for (index_t i = 0; i < m; ++i) {
      const V* qi = in.q + geo.row(c.batch, c.start + i, geo.Hk, kh, dk);
      std::copy(qi, qi + dk, fw.q.begin() + i * dk);
    }
    if (!std::all_of(fw.q.begin(), fw.q.end(), [](V x) { return std::isfinite(x); }) || poisoned)
      st = worst(st, Status::nonfinite_input);
    if (st == Status::nonfinite_input) {
      // Non-finite input: this chunk's outputs and every later state are NaN.
      poisoned = true;
      for (index_t i = 0; i < m; ++i) {
        V* oi = o + geo.row(c.batch, c.start + i, H, h, dv);
        std::fill(oi, oi + dv, std::numeric_limits<V>::quiet_NaN());
      }
      std::fill(fw.S.begin(), fw.S.end(), std::numeric_limits<V>::quiet_NaN());
      if (statuses) statuses[ci] = st;
      worst_status = worst(worst_status, st);
      if (state_time) *state_time += seconds_since(t0);
      continue;
    }
    const std::vector<V>& G = fw.wy.G;  // m x gw cumulative log-decays
    const std::vector<V>& K = fw.wy.a;  // m x dk keys
    const index_t gw = pc ? dk : 1;
    auto gamma = [&](index_t i, index_t ch) -> V {  // exp(G_i(ch)), 1 when ungated
      return f == WyFamily::deltanet ? V(1) : decay(ar, G[i * gw + (pc ? ch : 0)]);
    };
    // U' = U - W S^T
    fw.WS.resize(static_cast<std::size_t>(m * dv));
    product(ar, m, dv, dk, fw.wy.W.data(), fw.S.data(), /*transB=*/true, fw.WS.data());
    fw.Up.resize(static_cast<std::size_t>(m * dv));
    for (index_t i = 0; i < m * dv; ++i) fw.Up[i] = ar.store(ar.sub(fw.wy.U[i], fw.WS[i]));
    // O = (γ ⊙ Q) S^T + (Q K^T ⊙ Γ ⊙ M) U'
    fw.Qg.resize(static_cast<std::size_t>(m * dk));
    for (index_t i = 0; i < m; ++i)
      for (index_t ch = 0; ch < dk; ++ch)
        fw.Qg[i * dk + ch] = ar.store(ar.mul(gamma(i, ch), fw.q[i * dk + ch]));
    fw.O.resize(static_cast<std::size_t>(m * dv));
    product(ar, m, dv, dk, fw.Qg.data(), fw.S.data(), true, fw.O.data());
    fw.M.assign(static_cast<std::size_t>(m * m), V(0));
    if (pc) {
      for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j <= i; ++j) {
          V s = V(0);
          for (index_t ch = 0; ch < dk; ++ch)
            s = ar.muladd(fw.q[i * dk + ch],
                          ar.mul(K[j * dk + ch], decay(ar, ar.sub(G[i * dk + ch], G[j * dk + ch]))),
                          s);
          fw.M[i * m + j] = ar.store(s);
        }
    } else {
      fw.X.resize(static_cast<std::size_t>(m * m));
      product(ar, m, m, dk, fw.q.data(), K.data(), true, fw.X.data());
      for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j <= i; ++j)
          fw.M[i * m + j] = f == WyFamily::gated
                                ? ar.store(ar.mul(fw.X[i * m + j], decay(ar, ar.sub(G[i], G[j]))))
                                : fw.X[i * m + j];
    }
    fw.X.resize(static_cast<std::size_t>(m * dv));
    product(ar, m, dv, m, fw.M.data(), fw.Up.data(), false, fw.X.data());
    bool finite = true;
    for (index_t i = 0; i < m; ++i) {
      V* oi = o + geo.row(c.batch, c.start + i, H, h, dv);
      for (index_t j = 0; j < dv; ++j) {
        oi[j] = ar.output(ar.add(fw.O[i * dv + j], fw.X[i * dv + j]));
        finite = finite && std::isfinite(oi[j]);
      }
    }
    // S <- S Γ_C + U'^T E,  E_ic = exp(G_Cc - G_ic) k_ic
    fw.E.resize(static_cast<std::size_t>(m * dk));
    for (index_t i = 0; i < m; ++i)
      for (index_t ch = 0; ch < dk; ++ch) {
        const V d =
            f == WyFamily::deltanet
                ? V(1)
                : decay(ar, ar.sub(G[(m - 1) * gw + (pc ? ch : 0)], G[i * gw + (pc ? ch : 0)]));
        fw.E[i * dk + ch] = ar.store(ar.mul(d, K[i * dk + ch]));
      }
    fw.UpT.resize(static_cast<std::size_t>(dv * m));
    for (index_t i = 0; i < m; ++i)
      for (index_t j = 0; j < dv; ++j) fw.UpT[j * m + i] = fw.Up[i * dv + j];
    fw.X.resize(static_cast<std::size_t>(dv * dk));
    product(as, dv, dk, m, fw.UpT.data(), fw.E.data(), false, fw.X.data());
    for (index_t r = 0; r < dv; ++r)
      for (index_t ch = 0; ch < dk; ++ch) {
        V s = fw.S[r * dk + ch];
        if (f != WyFamily::deltanet) s = as.mul(s, gamma(m - 1, ch));
        fw.S[r * dk + ch] = as.store(as.add(s, fw.X[r * dk + ch]));
        finite = finite && std::isfinite(fw.S[r * dk + ch]);
      }
    if (!finite || ar.overflowed() || as.overflowed()) st = worst(st, Status::overflow);
    if (statuses) statuses[ci] = st;
    worst_status = worst(worst_status, st);
    if (state_time) *state_time += seconds_since(t0);
  }
  if (final_state)
    for (index_t r = 0; r < dv; ++r)
      for (index_t c = 0; c < dk; ++c)
        final_state[state_off + (opt.state_transposed ? c * dv + r : r * dk + c)] =
            fw.S[r * dk + c];
  return worst_status;
}

template <class V>
Status delta_forward_impl(WyFamily f, const ChunkLayout& layout, const DeltaInputs<V>& in, V* o,
                          V* final_state, const DeltaForwardOptions& opt, Status* statuses) {
  if (f == WyFamily::dplr)
    throw std::invalid_argument(
        "delta_forward: family dplr is not supported (deltanet, gated, kda)");
  if (layout.chunk != 16 && layout.chunk != 32 && layout.chunk != 64 && layout.chunk != 128)
    throw std::invalid_argument("delta_forward: layout.chunk must be 16, 32, 64 or 128, got " +
                                std::to_string(layout.chunk));
  const WyInputs<V> wi{in.k, in.v, in.beta, in.g, nullptr, nullptr, in.dk, in.dv, in.key_heads};
  const Geometry geo = check_arguments(f, layout, wi, WyOutputs<V>{nullptr, o}, /*forward=*/true);
  if (layout.batch * layout.length * layout.heads > 0 && in.q == nullptr)
    throw std::invalid_argument("delta_forward: q is null");
  trinv_method(opt.method.name);
  const std::vector<ChunkRef> chunks = enumerate_chunks(layout);
  // (sequence, head) -> its chunks, in order
  std::map<std::pair<index_t, index_t>, std::vector<index_t>> groups;
  for (std::size_t i = 0; i < chunks.size(); ++i)
    groups[{chunks[i].sequence, chunks[i].head}].push_back(static_cast<index_t>(i));
  std::vector<std::vector<index_t>> work;
  for (auto& [key, list] : groups) work.push_back(std::move(list));
  // Sequences without tokens still have a final state: the initial one.
  const index_t N = sequence_count(layout);
  if (final_state)
    for (index_t s = 0; s < N; ++s)
      for (index_t h = 0; h < layout.heads; ++h)
        if (!groups.count({s, h}))
          for (index_t e = 0; e < in.dv * in.dk; ++e)
            final_state[(s * layout.heads + h) * in.dv * in.dk + e] =
                in.initial_state ? in.initial_state[(s * layout.heads + h) * in.dv * in.dk + e]
                                 : V(0);

  constexpr bool is_float = std::is_same<V, float>::value;
  const Format& nat = format_by_name(is_float ? "fp32" : "fp64");
  const bool native = opt.precision.is_native(nat) && opt.state_format == nat;
  Precision state_precision = opt.precision;
  state_precision.storage = opt.state_format;
  const unsigned W = worker_count(opt.threads, static_cast<index_t>(work.size()));
  std::vector<ForwardWork<V>> fws(W);
  std::vector<PhaseTimes> times(W);
  std::vector<double> state_times(W, 0.0);
  const Status s =
      run_items(static_cast<index_t>(work.size()), opt.threads, [&](index_t i, unsigned w) {
        PhaseTimes* t = opt.profile ? &times[w] : nullptr;
        double* stt = opt.profile ? &state_times[w] : nullptr;
        const auto& mine = work[static_cast<std::size_t>(i)];
        if constexpr (is_float) {
          arith::Native<float> ar, as;
          return forward_sequence(ar, as, f, layout, chunks, mine, geo, in, o, final_state, opt,
                                  statuses, fws[w], t, stt);
        } else {
          if (native) {
            arith::Native<double> ar, as;
            return forward_sequence(ar, as, f, layout, chunks, mine, geo, in, o, final_state, opt,
                                    statuses, fws[w], t, stt);
          }
          arith::Simulated ar(opt.precision, static_cast<std::uint64_t>(2 * i));
          arith::Simulated as(state_precision, static_cast<std::uint64_t>(2 * i + 1));
          return forward_sequence(ar, as, f, layout, chunks, mine, geo, in, o, final_state, opt,
                                  statuses, fws[w], t, stt);
        }
      });
  if (opt.profile)
    for (unsigned w = 0; w < W; ++w) {
      opt.profile->wy += times[w].kkt + times[w].wu;
      opt.profile->inversion += times[w].inversion;
      opt.profile->state += state_times[w];
    }
  return s;
}

std::vector<double> widen(const float* p, index_t n) {
  return p ? std::vector<double>(p, p + n) : std::vector<double>();
}

}  // namespace

Status delta_forward(WyFamily family, const ChunkLayout& layout, const DeltaInputs<double>& in,
                     double* o, double* final_state, const DeltaForwardOptions& options,
                     Status* statuses) {
  return delta_forward_impl(family, layout, in, o, final_state, options, statuses);
}

Status delta_forward(WyFamily family, const ChunkLayout& layout, const DeltaInputs<float>& in,
                     float* o, float* final_state, const DeltaForwardOptions& options,
                     Status* statuses) {
  const Format& fp32 = format_by_name("fp32");
  if (options.precision.is_native(fp32) && options.state_format == fp32)
    return delta_forward_impl(family, layout, in, o, final_state, options, statuses);
  layout.validate();
  const index_t rows = layout.batch * layout.length, H = layout.heads;
  const index_t Hk = in.key_heads == 0 ? H : in.key_heads;
  const index_t gw = family == WyFamily::kda ? in.dk : 1;
  const index_t N = sequence_count(layout);
  const auto q = widen(in.q, rows * Hk * in.dk), k = widen(in.k, rows * Hk * in.dk),
             v = widen(in.v, rows * H * in.dv), beta = widen(in.beta, rows * H),
             g = widen(family == WyFamily::deltanet ? nullptr : in.g, rows * H * gw),
             s0 = widen(in.initial_state, N * H * in.dv * in.dk);
  auto d = [](const std::vector<double>& x) { return x.empty() ? nullptr : x.data(); };
  std::vector<double> od(o ? static_cast<std::size_t>(rows * H * in.dv) : 0),
      sd(final_state ? static_cast<std::size_t>(N * H * in.dv * in.dk) : 0);
  if (o) std::copy(o, o + od.size(), od.begin());
  const Status s = delta_forward_impl(
      family, layout,
      DeltaInputs<double>{d(q), d(k), d(v), d(beta), d(g), d(s0), in.dk, in.dv, in.key_heads},
      o ? od.data() : nullptr, final_state ? sd.data() : nullptr, options, statuses);
  if (o) std::copy(od.begin(), od.end(), o);
  if (final_state) std::copy(sd.begin(), sd.end(), final_state);
  return s;
}

}  // namespace triscan
