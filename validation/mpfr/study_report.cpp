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
                  (kind == "wy" ? "error bound (on w_error and u_error)" : kind == "scan" ? "error bound (componentwise, per state)" : "forward-error bound") + "; ";
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

std::string study_report_markdown(const StudyConfig& c, const std::vector<StudyRow>& rows,
                                  const StudyEnvironment& env, const std::vector<std::string>& plots,
                                  const std::string& plots_note) {
  const auto groups = groups_of(rows);
  std::map<std::string, std::size_t> counts;
  for (const auto& r : rows) ++counts[r.status];
  std::string status_text;
  for (Status s : all_statuses) {
    const std::string name(status_name(s));
    if (counts.count(name)) status_text += (status_text.empty() ? "" : ", ") + std::to_string(counts[name]) + " " + name;
  }

  std::string md = "# Accuracy study `" + c.name + "`\n\n";
  md += "**Finding** (generated from the measured data). " + std::to_string(rows.size()) + " runs: " + status_text +
        ". " + flagged_sentence(groups) + bound_sentence(rows, c.kind) +
        best_worst_sentence(rows, groups, study_report_metric_names(c.kind).front()) + "\n\n";
  md += "Regenerate with:\n\n```sh\n" + env.command + "\n```\n\n";
  if (!c.description.empty()) md += c.description + "\n\n";

  md += "## Sweep\n\n";
  md += "- kind: " + c.kind + "\n- methods: " + list(c.methods) + "\n";
  std::vector<std::string> precs, gens, sizes, seeds;
  for (std::size_t i = 0; i < c.precisions.size(); ++i) precs.push_back(study_precision_label(c, i));
  const std::size_t inputs = c.kind == "scan" ? c.scan_kinds.size() : c.generators.size();
  for (std::size_t i = 0; i < inputs; ++i) gens.push_back(study_input_label(c, i));
  for (index_t n : c.sizes) sizes.push_back(std::to_string(n));
  for (auto s : c.seeds) seeds.push_back(std::to_string(s));
  if (c.kind == "scan") {
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

  md += "## Environment\n\n| | |\n|---|---|\n";
  md += "| triscan | " + env.triscan_version + " (git " + env.git_revision + ") |\n";
  md += "| compiler | " + env.compiler + " |\n| CPU | " + env.cpu + " |\n| date | " + env.date + " |\n";
  char secs[64];
  std::snprintf(secs, sizeof secs, "%.0f s on %u thread%s", env.seconds, env.threads, env.threads == 1 ? "" : "s");
  md += std::string("| wall time | ") + secs +
        (env.resumed ? " (this invocation; " + std::to_string(env.resumed) + " rows resumed from an earlier one)"
                     : std::string()) +
        " |\n\n";

  md += "## Results by precision\n\n";
  for (const auto& metric : c.report_metrics) {
    if (c.report_metrics.size() > 1) md += "### " + metric + "\n\n";
    md += "Each cell: the largest " + std::string(metric_formula(metric)) +
          " over all sizes and seeds of that method and input, among runs where it is finite; then, in bold, "
          "every status other than `ok` with its count (`overflow`, `inaccurate`, `not_converged`, ...: flagged "
          "runs are never dropped; a flagged run whose value is finite counts in the number, one whose value is "
          "NaN or infinite only in the count), and `>bound k/m` when k runs exceeded the method's theoretical "
          "forward-error bound. `—`: no run gave a finite value.\n\n";
    const auto gen_list = unique_in_order(rows, &StudyRow::generator);
    for (const auto& prec : unique_in_order(rows, &StudyRow::precision)) {
      md += "#### " + prec + (c.report_metrics.size() > 1 ? " — " + metric : std::string()) + "\n\n| method |";
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
    md += "## Bounds\n\n- chunk/ representations: `wy_error_bound` (docs/wy.md \"Error bound\"), the first-order "
          "componentwise bound on `w_error` and `u_error` (relative, the larger of the two bounds) from forming N "
          "(dot products, Higham (3.5)), inverting I + N (Higham ASNA §14.2) and the GEMM T B' (Higham (3.13)); "
          "`within_bound` compares `max(w_error, u_error)` with it.\n"
          "- householder/ representations: no a-priori bound is computed here (docs/householder.md gives the "
          "stability classes).\n";
  } else if (c.kind == "scan") {
    md += "## Bounds\n\n`scan_error_bound` (docs/scan.md \"Error bounds\"): an a-priori bound per state component "
          "(scalar/diagonal/log_diagonal) or per token's state 2-norm (dense/delta), in the state format's unit "
          "roundoff, with the algorithm's depth term (0 for sequential/chunked, ⌈log2 T⌉ Hillis–Steele, "
          "2⌈log2 T⌉ Blelloch). `bound_ratio` is the largest error/bound ratio (`within_bound` = yes when ≤ 1); "
          "the `bound` column is ‖bound‖₂ / ‖H_ref‖_F, which bounds `forward_error` whenever every entry is within.\n";
  } else {
    md += "## Bounds\n\nEach bound is on `forward_error_inf` (`‖X − X_ref‖_∞ / ‖X_ref‖_∞`), first order in u "
          "(validation/bounds.hpp; docs/study.md). Methods without a bound here have none known.\n\n";
    for (const auto& m : c.methods) {
      const std::string f = forward_error_bound_formula(MethodSpec::parse(m));
      md += "- `" + m + "`: " + (f.empty() ? "no known a-priori bound" : f) + "\n";
    }
  }
  md += "\n## Plots\n\n";
  if (!plots_note.empty()) md += plots_note + "\n";
  for (const auto& p : plots) md += "![" + p + "](plots/" + p + ")\n\n";
  return md;
}

}  // namespace triscan::validation
