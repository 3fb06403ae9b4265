// report.md of a study: every number in it is computed here from the rows (the same
// rows results.csv holds), so the finding paragraph and the tables say what was measured.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "triscan/status.hpp"
#include "validation/bounds.hpp"
#include "validation/study.hpp"

namespace triscan::validation {
namespace {

std::string sci(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1e", x);
  return buf;
}

template <class T>
std::vector<T> unique_in_order(const std::vector<StudyRow>& rows, T StudyRow::*field) {
  std::vector<T> out;
  for (const auto& r : rows)
    if (std::find(out.begin(), out.end(), r.*field) == out.end()) out.push_back(r.*field);
  return out;
}

using GroupKey = std::tuple<std::string, std::string, std::string>;  // method, precision, generator

std::map<GroupKey, std::vector<const StudyRow*>> groups_of(const std::vector<StudyRow>& rows) {
  std::map<GroupKey, std::vector<const StudyRow*>> g;
  for (const auto& r : rows) g[{r.method, r.precision, r.generator}].push_back(&r);
  return g;
}

double metric_of(const StudyRow& r, const std::string& metric) {
  if (metric == "forward_error_inf") return r.forward_error_inf;
  if (metric == "componentwise_error") return r.componentwise_error;
  if (metric == "right_residual") return r.right_residual;
  if (metric == "left_residual") return r.left_residual;
  if (metric == "lapack_ratio") return r.lapack_ratio;
  if (metric == "w_error") return r.w_error;
  if (metric == "u_error") return r.u_error;
  if (metric == "representation_error") return r.representation_error;
  if (metric == "orthogonality_loss") return r.orthogonality_loss;
  if (metric == "cond") return r.cond;
  if (metric == "max_rel_error") return r.max_rel_error;
  if (metric == "bound_ratio") return r.bound_ratio;
  if (metric == "output_error") return r.output_error;
  if (metric == "state_error") return r.state_error;
  return r.forward_error;
}

const char* metric_formula(const std::string& metric) {
  if (metric == "forward_error_inf") return "relative ∞-norm forward error `‖X − X_ref‖_∞ / ‖X_ref‖_∞`";
  if (metric == "componentwise_error") return "componentwise relative error `max |X − X_ref|_ij / |X_ref|_ij`";
  if (metric == "right_residual") return "right residual `‖AX − I‖_∞ / (‖A‖_∞ ‖X‖_∞)`";
  if (metric == "left_residual") return "left residual `‖XA − I‖_∞ / (‖X‖_∞ ‖A‖_∞)`";
  if (metric == "lapack_ratio") return "LAPACK ratio `‖AX − I‖_1 / (n ‖A‖_1 ‖X‖_1 u)` (LAPACK accepts < 30)";
  if (metric == "w_error") return "W error `‖W − W_ref‖_F / ‖W_ref‖_F` (chunk/ representations)";
  if (metric == "u_error") return "U error `‖U − U_ref‖_F / ‖U_ref‖_F` (chunk/ representations)";
  if (metric == "representation_error")
    return "representation error (chunk/: `max(‖P(W) − P‖_F/‖P‖_F, ‖S(U) − S‖_F/‖S‖_F)`; householder/: "
           "`‖Q − Q_ref‖_F / ‖Q_ref‖_F`; docs/wy.md, docs/householder.md)";
  if (metric == "orthogonality_loss") return "orthogonality loss `‖QᵀQ − I‖_F` (householder/ with reflectors)";
  if (metric == "cond") return "Skeel condition number `cond(I + N)` (chunk/) or `cond(L)` (inversion)";
  if (metric == "max_rel_error") return "largest per-token error `max_t ‖h_t − h_t,ref‖_2 / ‖h_t,ref‖_2`";
  if (metric == "bound_ratio") return "ratio to the a-priori bound `max |error| / bound` (≤ 1: within; docs/scan.md)";
  if (metric == "output_error") return "output error `‖O − O_ref‖_F / ‖O_ref‖_F` (all tokens and heads)";
  if (metric == "state_error") return "final-state error `‖S_T − S_T,ref‖_F / ‖S_T,ref‖_F` (all heads)";
  return "relative Frobenius forward error `‖X − X_ref‖_F / ‖X_ref‖_F`";
}

// Largest finite value of `metric` in a group (NaN when none is finite).
double max_finite_error(const std::vector<const StudyRow*>& group, const std::string& metric = "forward_error") {
  double m = std::nan("");
  for (const auto* r : group) {
    const double x = metric_of(*r, metric);
    if (std::isfinite(x) && !(m >= x)) m = x;
  }
  return m;
}

std::string range_of_sizes(const std::vector<const StudyRow*>& group) {
  std::set<index_t> ns;
  for (const auto* r : group) ns.insert(r->n);
  std::string s;
  for (index_t n : ns) s += (s.empty() ? "" : ",") + std::to_string(n);
  return s;
}

// Flagged groups: (method, precision, generator) with any status other than ok.
int severity(const std::string& status) {
  for (Status s : all_statuses)
    if (status_name(s) == status) return static_cast<int>(s);
  return 100;
}

std::string flagged_sentence(const std::map<GroupKey, std::vector<const StudyRow*>>& groups) {
  std::vector<std::pair<int, std::string>> items;  // worst statuses first
  for (const auto& [key, group] : groups) {
    std::map<std::string, std::vector<const StudyRow*>> by_status;
    for (const auto* r : group)
      if (r->status != "ok") by_status[r->status].push_back(r);
    for (const auto& [status, rs] : by_status)
      items.emplace_back(-severity(status), std::get<0>(key) + " in " + std::get<1>(key) + " on " + std::get<2>(key) + " (" + status + " in " +
                      std::to_string(rs.size()) + " of " + std::to_string(group.size()) + " runs, n = " +
                      range_of_sizes(rs) + ")");
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  if (items.empty()) return "No run was flagged: every status is ok. ";
  std::string s = std::to_string(items.size()) + " method/precision/input combination" +
                  (items.size() == 1 ? " was" : "s were") + " flagged: ";
  const std::size_t shown = std::min<std::size_t>(items.size(), 10);
  for (std::size_t i = 0; i < shown; ++i) s += (i ? "; " : "") + items[i].second;
  if (shown < items.size()) s += "; and " + std::to_string(items.size() - shown) + " more (see the tables)";
  return s + ". ";
}

std::string bound_sentence(const std::vector<StudyRow>& rows, const std::string& kind) {
  std::size_t with = 0, over = 0;
  std::map<std::string, std::size_t> over_by;
  for (const auto& r : rows) {
    if (r.within_bound.empty()) continue;
    ++with;
    if (r.within_bound == "no") {
      ++over;
      ++over_by[r.method + " in " + r.precision + " on " + r.generator];
    }
  }
  if (with == 0) return "No run had a theoretical bound to compare with. ";
  std::string s = std::to_string(with) + " runs had a theoretical " +
                  (kind == "wy"      ? "error bound (on w_error and u_error)"
                   : kind == "scan"  ? "error bound (componentwise, per state)"
                   : kind == "delta" ? "first-order error bound (on output_error and state_error)"
                                     : "forward-error bound") +
                  "; ";
  if (over == 0) return s + "every measured error was within it. ";
  s += std::to_string(over) + " exceeded it (";
  std::size_t i = 0;
  for (const auto& [what, k] : over_by) {
    if (i == 6) {
      s += "; ...";
      break;
    }
    s += (i++ ? "; " : "") + what + ": " + std::to_string(k);
  }
  return s + "). ";
}

std::string best_worst_sentence(const std::vector<StudyRow>& rows,
                                const std::map<GroupKey, std::vector<const StudyRow*>>& groups,
                                const std::string& metric) {
  std::string s;
  for (const auto& prec : unique_in_order(rows, &StudyRow::precision)) {
    // Inputs on which every method was flagged say something about the input (e.g. a
    // LAPACK type beyond the format's range), not about the methods: named, then left
    // out of the ranking.
    std::map<std::string, bool> all_flagged;
    for (const auto& [key, group] : groups) {
      if (std::get<1>(key) != prec) continue;
      bool any = false;
      for (const auto* r : group) any = any || r->status != "ok";
      auto it = all_flagged.find(std::get<2>(key));
      all_flagged[std::get<2>(key)] = (it == all_flagged.end() ? true : it->second) && any;
    }
    std::string inputs;
    for (const auto& [g, all] : all_flagged)
      if (all) inputs += (inputs.empty() ? "" : ", ") + g;
    if (!inputs.empty()) s += "In " + prec + " every method was flagged on " + inputs + ". ";
    // Per method: the largest finite error over the other inputs, and whether any run failed.
    std::map<std::string, double> worst;
    std::map<std::string, bool> flagged;
    for (const auto& [key, group] : groups) {
      if (std::get<1>(key) != prec || all_flagged[std::get<2>(key)]) continue;
      const std::string& m = std::get<0>(key);
      const double e = max_finite_error(group, metric);
      if (!worst.count(m) || std::isnan(worst[m]) || e > worst[m]) worst[m] = e;
      for (const auto* r : group) flagged[m] = flagged[m] || r->status != "ok";
    }
    std::string best, bad;
    for (const auto& [m, e] : worst) {
      if (flagged[m] || std::isnan(e)) continue;
      if (best.empty() || e < worst[best]) best = m;
      if (bad.empty() || e > worst[bad]) bad = m;
    }
    if (best.empty()) {
      s += "In " + prec + " every method was flagged on some input. ";
    } else {
      s += "In " + prec + " the most accurate method with no flagged run" + (inputs.empty() ? "" : " on the other inputs") +
           " was " + best +
           " (largest " + metric + " " + sci(worst[best]) + ")";
      if (bad != best) s += ", the least accurate " + bad + " (" + sci(worst[bad]) + ")";
      s += ". ";
    }
  }
  return s;
}

// Kinds scan and delta: how the headline metric grows with the length T, per precision:
// the median over methods, inputs and seeds at the shortest and at the longest T (finite
// values only), and the largest value at the longest T with its method and input.
std::string length_growth_sentence(const std::vector<StudyRow>& rows, const std::string& metric) {
  std::set<index_t> lengths;
  for (const auto& r : rows) lengths.insert(r.n);
  if (lengths.size() < 2) return "";
  const index_t t0 = *lengths.begin(), t1 = *lengths.rbegin();
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? std::nan("") : v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  };
  std::string s;
  for (const auto& prec : unique_in_order(rows, &StudyRow::precision)) {
    std::vector<double> a, b;
    const StudyRow* worst = nullptr;
    for (const auto& r : rows) {
      if (r.precision != prec) continue;
      const double x = metric_of(r, metric);
      if (!std::isfinite(x)) continue;
      if (r.n == t0) a.push_back(x);
      if (r.n == t1) {
        b.push_back(x);
        if (!worst || x > metric_of(*worst, metric)) worst = &r;
      }
    }
    if (a.empty() || b.empty()) continue;
    const double ma = median(a), mb = median(b);
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s (median) goes from %s at T = %lld to %s at T = %lld (×%.2g for %lld× the length)",
                  metric.c_str(), sci(ma).c_str(), static_cast<long long>(t0), sci(mb).c_str(),
                  static_cast<long long>(t1), ma > 0 ? mb / ma : std::nan(""), static_cast<long long>(t1 / t0));
    s += "In " + prec + " " + buf + "; the largest at T = " + std::to_string(t1) + " is " +
         sci(metric_of(*worst, metric)) + " (" + worst->method + " on " + worst->generator + "). ";
  }
  return s;
}

std::string list(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + ("`" + x + "`");
  return s;
}

}  // namespace

std::string study_report_cell(const std::vector<const StudyRow*>& group, const std::string& metric) {
  std::map<std::string, std::size_t> flagged;
  std::size_t over = 0;
  for (const auto* r : group) {
    if (r->status != "ok") ++flagged[r->status];
    if (r->within_bound == "no") ++over;
  }
  const double e = max_finite_error(group, metric);
  std::string cell = std::isnan(e) ? "—" : sci(e);
  const std::string total = std::to_string(group.size());
  for (const auto& [status, k] : flagged) cell += " · **" + status + " " + std::to_string(k) + "/" + total + "**";
  if (over) cell += " · >bound " + std::to_string(over) + "/" + total;
  return cell;
}

namespace {

// The finding sentences of one kind's rows.
std::string finding_of(const StudyConfig& c, const std::vector<StudyRow>& rows) {
  const auto groups = groups_of(rows);
  std::map<std::string, std::size_t> counts;
  for (const auto& r : rows) ++counts[r.status];
  std::string status_text;
  for (Status s : all_statuses) {
    const std::string name(status_name(s));
    if (counts.count(name)) status_text += (status_text.empty() ? "" : ", ") + std::to_string(counts[name]) + " " + name;
  }
  const std::string metric = study_report_metric_names(c.kind).front();
  std::string s = std::to_string(rows.size()) + " runs: " + status_text + ". " + flagged_sentence(groups) +
                  bound_sentence(rows, c.kind) + best_worst_sentence(rows, groups, metric);
  if (c.kind == "scan" || c.kind == "delta") s += length_growth_sentence(rows, metric);
  if (c.kind == "delta") s += length_growth_sentence(rows, "state_error");
  return s;
}

// Sweep, results, bounds and the plots of one kind; `h` is the level of its headings
// ("##" for a study of one kind, "###" inside a part).
std::string sections_of(const StudyConfig& c, const std::vector<StudyRow>& rows, const std::vector<std::string>& plots,
                        const std::string& plots_note, const std::string& h) {
  const auto groups = groups_of(rows);
  std::string md;
  md += h + " Sweep\n\n";
  md += "- kind: " + c.kind + "\n- methods: " + list(c.methods) + "\n";
  std::vector<std::string> precs, gens, sizes, seeds;
  for (std::size_t i = 0; i < c.precisions.size(); ++i) precs.push_back(study_precision_label(c, i));
  const std::size_t inputs = c.kind == "scan" ? c.scan_kinds.size() : c.generators.size();
  for (std::size_t i = 0; i < inputs; ++i) gens.push_back(study_input_label(c, i));
  for (index_t n : c.sizes) sizes.push_back(std::to_string(n));
  for (auto s : c.seeds) seeds.push_back(std::to_string(s));
  if (c.kind == "delta") {
    std::vector<std::string> chunks;
    for (index_t C : c.chunks) chunks.push_back(std::to_string(C));
    md += "- chunk sizes C (method `chunkwise/C=<C>`): " + list(chunks) + "\n";
    md += "- precisions (operand[/accumulate/storage/output][/state] rounding; no state: the storage format): " +
          list(precs) + "\n";
    md += "- families (the input generator; deltanet* run DeltaNet, gated Gated DeltaNet, kda KDA): " + list(gens) +
          "\n- lengths T: " + list(sizes) + "\n- seeds: " + list(seeds) + "\n";
    md += "- B = 1, H = " + std::to_string(c.heads) + ", dk = " + std::to_string(c.dk) + ", dv = " +
          std::to_string(c.dv) + "; I + N inverted by `" + c.trinv_method + "`; " +
          (c.initial_state ? "a random initial state (N(0,1)/√dk entries)" : "zero initial state") +
          "; against the token recurrence in MPFR from the same rounded inputs\n\n";
  } else if (c.kind == "scan") {
    md += "- precisions (operand[/accumulate/storage/output][/state] rounding): " + list(precs) + "\n";
    md += "- scan kinds (d channels; delta: dk = dv = d): " + list(gens) + "\n- lengths T: " + list(sizes) +
          "\n- seeds: " + list(seeds) + "\n";
    char opts[160];
    std::snprintf(opts, sizeof opts, "- generation: decay_min %g (a ~ U(decay_min, 1)); delta gate %s, gate_value %g\n\n",
                  c.decay_min, c.gate.c_str(), c.gate_value);
    md += opts;
  } else {
    md += "- precisions (operand[/accumulate/storage/output] rounding): " + list(precs) + "\n";
    md += "- generators: " + list(gens) + "\n- sizes " +
          (c.kind == "wy" ? std::string("(chunk/: C tokens; householder/: r transformations of order m = dk)")
                          : std::string("n")) +
          ": " + list(sizes) + "\n- seeds: " + list(seeds) + "\n";
    if (c.kind == "wy")
      md += "- chunk/: I + N inverted by `" + c.trinv_method + "`; chunk/deltaproduct with " +
            std::to_string(c.householder_steps) + " Householder steps per token; a chunk/ representation runs only " +
            "on the generators that fit it\n- householder/: " +
            (c.reflectors ? "true reflectors, beta = 2/‖k‖²" : "general beta from the generator") + "\n";
    md += std::string("- a-posteriori accuracy check: ") + (c.check_accuracy ? "on" : "off") + "\n\n";
  }

  md += h + " Results by precision\n\n";
  for (const auto& metric : c.report_metrics) {
    if (c.report_metrics.size() > 1) md += h + "# " + metric + "\n\n";
    md += "Each cell: the largest " + std::string(metric_formula(metric)) +
          " over all sizes and seeds of that method and input, among runs where it is finite; then, in bold, "
          "every status other than `ok` with its count (`overflow`, `inaccurate`, `not_converged`, ...: flagged "
          "runs are never dropped; a flagged run whose value is finite counts in the number, one whose value is "
          "NaN or infinite only in the count), and `>bound k/m` when k runs exceeded the method's theoretical "
          "forward-error bound. `—`: no run gave a finite value.\n\n";
    const auto gen_list = unique_in_order(rows, &StudyRow::generator);
    for (const auto& prec : unique_in_order(rows, &StudyRow::precision)) {
      md += h + "## " + prec + (c.report_metrics.size() > 1 ? " — " + metric : std::string()) + "\n\n| method |";
      for (const auto& g : gen_list) md += " " + g + " |";
      md += "\n|---|";
      for (std::size_t i = 0; i < gen_list.size(); ++i) md += "---|";
      md += "\n";
      for (const auto& m : unique_in_order(rows, &StudyRow::method)) {
        md += "| `" + m + "` |";
        for (const auto& g : gen_list) {
          const auto it = groups.find({m, prec, g});
          md += " " + (it == groups.end() ? std::string("") : study_report_cell(it->second, metric)) + " |";
        }
        md += "\n";
      }
      md += "\n";
    }
  }

  if (c.kind == "wy") {
    md += h + " Bounds\n\n- chunk/ representations: `wy_error_bound` (docs/wy.md \"Error bound\"), the first-order "
          "componentwise bound on `w_error` and `u_error` (relative, the larger of the two bounds) from forming N "
          "(dot products, Higham (3.5)), inverting I + N (Higham ASNA §14.2) and the GEMM T B' (Higham (3.13)); "
          "`within_bound` compares `max(w_error, u_error)` with it.\n"
          "- householder/ representations: no a-priori bound is computed here (docs/householder.md gives the "
          "stability classes).\n";
  } else if (c.kind == "scan") {
    md += h + " Bounds\n\n`scan_error_bound` (docs/scan.md \"Error bounds\"): an a-priori bound per state component "
          "(scalar/diagonal/log_diagonal) or per token's state 2-norm (dense/delta), in the state format's unit "
          "roundoff, with the algorithm's depth term (0 for sequential/chunked, ⌈log2 T⌉ Hillis–Steele, "
          "2⌈log2 T⌉ Blelloch). `bound_ratio` is the largest error/bound ratio (`within_bound` = yes when ≤ 1); "
          "the `bound` column is ‖bound‖₂ / ‖H_ref‖_F, which bounds `forward_error` whenever every entry is within.\n";
  } else if (c.kind == "delta") {
    md += h + " Bounds\n\n`delta_forward_bound` (docs/wy.md \"Chunkwise forward: error bound\"): the first-order "
          "bounds of the chunkwise forward, computed per run from MPFR quantities: per chunk the WY bound "
          "(`wy_error_bound`) and the errors of U' = U − W Sᵀ, the outputs and the state update, with the chunk "
          "transitions contractive (unit keys, β ≤ 2), so chunk errors add up over the sequence; plus the "
          "state format's rounding per chunk and the output rounding. The `bound` column bounds `output_error`, "
          "`state_bound` bounds `state_error`; `within_bound` = yes when both errors are within. They catch a "
          "wrong formula, not a 10× regression: in fp32 they are far above the measured errors (docs/scan.md).\n";
  } else {
    md += h + " Bounds\n\nEach bound is on `forward_error_inf` (`‖X − X_ref‖_∞ / ‖X_ref‖_∞`), first order in u "
          "(validation/bounds.hpp; docs/study.md). Methods without a bound here have none known.\n\n";
    for (const auto& m : c.methods) {
      const std::string f = forward_error_bound_formula(MethodSpec::parse(m));
      md += "- `" + m + "`: " + (f.empty() ? "no known a-priori bound" : f) + "\n";
    }
  }
  md += "\n" + h + " Plots\n\n";
  if (!plots_note.empty()) md += plots_note + "\n";
  for (const auto& p : plots) md += "![" + p + "](plots/" + p + ")\n\n";
  return md;
}

std::string environment_table(const StudyEnvironment& env) {
  std::string md = "## Environment\n\n| | |\n|---|---|\n";
  md += "| triscan | " + env.triscan_version + " (git " + env.git_revision + ") |\n";
  md += "| compiler | " + env.compiler + " |\n| CPU | " + env.cpu + " |\n| date | " + env.date + " |\n";
  char secs[64];
  std::snprintf(secs, sizeof secs, "%.0f s on %u thread%s", env.seconds, env.threads, env.threads == 1 ? "" : "s");
  md += std::string("| wall time | ") + secs +
        (env.resumed ? " (this invocation; " + std::to_string(env.resumed) + " rows resumed from an earlier one)"
                     : std::string()) +
        " |\n\n";
  return md;
}

const char* kind_title(const std::string& kind) {
  if (kind == "scan") return "Scans";
  if (kind == "delta") return "Chunkwise delta-rule forward";
  if (kind == "wy") return "WY representations";
  return "Triangular inversion";
}

}  // namespace

std::string study_report_markdown(const StudyConfig& c, const std::vector<StudyRow>& rows,
                                  const StudyEnvironment& env, const std::vector<std::string>& plots,
                                  const std::string& plots_note) {
  std::string md = "# Accuracy study `" + c.name + "`\n\n";
  if (c.parts.empty()) {
    md += "**Finding** (generated from the measured data). " + finding_of(c, rows) + "\n\n";
    md += "Regenerate with:\n\n```sh\n" + env.command + "\n```\n\n";
    if (!c.description.empty()) md += c.description + "\n\n";
    std::string body = sections_of(c, rows, plots, plots_note, "##");
    // the environment goes after the sweep, as it always has
    const std::size_t at = body.find("## Results by precision");
    return md + body.substr(0, at) + environment_table(env) + body.substr(at);
  }
  // A study of parts: the rows are in plan order, each part's rows one block; a part's
  // plots are the PNGs whose name starts with its kind (validation/plot_report.py).
  std::vector<std::vector<StudyRow>> part_rows(c.parts.size());
  std::size_t at = 0;
  for (std::size_t i = 0; i < c.parts.size(); ++i) {
    const std::size_t k = plan_study(c.parts[i]).size();
    for (std::size_t j = at; j < at + k && j < rows.size(); ++j) part_rows[i].push_back(rows[j]);
    at += k;
  }
  md += "**Finding** (generated from the measured data). ";
  for (std::size_t i = 0; i < c.parts.size(); ++i)
    md += std::string(i ? " " : "") + "**" + kind_title(c.parts[i].kind) + ".** " + finding_of(c.parts[i], part_rows[i]);
  md += "\n\nRegenerate with:\n\n```sh\n" + env.command + "\n```\n\n";
  if (!c.description.empty()) md += c.description + "\n\n";
  md += environment_table(env);
  for (std::size_t i = 0; i < c.parts.size(); ++i) {
    const StudyConfig& p = c.parts[i];
    std::vector<std::string> mine;
    for (const auto& png : plots)
      if (png.rfind(p.kind + "_", 0) == 0) mine.push_back(png);
    md += "## Part " + std::to_string(i + 1) + ": " + kind_title(p.kind) + " (kind " + p.kind + ")\n\n";
    if (!p.description.empty()) md += p.description + "\n\n";
    md += sections_of(p, part_rows[i], mine, plots_note, "###");
  }
  return md;
}

}  // namespace triscan::validation
