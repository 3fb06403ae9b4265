// Study configs: JSON parsing and validation (docs/study.md "Config schema"), the
// embedded presets, the plan and the run keys. Every check happens here, before any
// run, and names the key path and the allowed values.
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>

#include "triscan/householder.hpp"
#include "triscan/scan.hpp"
#include "triscan/trinv.hpp"
#include "validation/chunk_wy_experiment.hpp"
#include "validation/householder_experiment.hpp"
#include "validation/scan_experiment.hpp"
#include "validation/study.hpp"

namespace triscan::validation {

// validation/study_embed.cmake generates these.
const std::vector<std::pair<std::string, std::string>>& study_embedded_presets();

namespace {

using json = nlohmann::json;

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

[[noreturn]] void fail(const std::string& source, const std::string& key, const std::string& what) {
  throw std::invalid_argument("study config " + source + ": '" + key + "': " + what);
}

void check_keys(const json& obj, const std::vector<std::string>& allowed, const std::string& source,
                const std::string& path) {
  for (const auto& item : obj.items())
    if (std::find(allowed.begin(), allowed.end(), item.key()) == allowed.end())
      fail(source, path + item.key(), "unknown key (allowed: " + joined(allowed) + ")");
}

const json& required_array(const json& cfg, const std::string& key, const std::string& source) {
  if (!cfg.contains(key)) fail(source, key, "missing (a non-empty list)");
  const json& a = cfg.at(key);
  if (!a.is_array() || a.empty()) fail(source, key, "expected a non-empty list");
  return a;
}

std::string string_value(const json& v, const std::string& source, const std::string& key) {
  if (!v.is_string()) fail(source, key, "expected a string, got " + v.dump());
  return v.get<std::string>();
}

double number_value(const json& v, const std::string& source, const std::string& key) {
  if (!v.is_number()) fail(source, key, "expected a number, got " + v.dump());
  return v.get<double>();
}

long long integer_value(const json& v, const std::string& source, const std::string& key, long long lo,
                        long long hi) {
  if (!v.is_number_integer()) fail(source, key, "expected an integer, got " + v.dump());
  if (v.is_number_unsigned() && v.get<unsigned long long>() > static_cast<unsigned long long>(hi))
    fail(source, key, v.dump() + " out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  const long long x = v.get<long long>();
  if (x < lo || x > hi)
    fail(source, key, v.dump() + " out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return x;
}

// A throw-away 1 x 1 inversion: invert() validates the spec, its parameters, the
// precision and the diagonal kind exactly as a real run would, so a bad combination is
// found here and not in the middle of a sweep.
void dry_run(const MethodSpec& spec, const Precision& p, Diagonal diagonal) {
  Matrix<double> A = Matrix<double>::identity(1), X(1, 1);
  TrinvOptions o;
  o.precision = p;
  o.diagonal = diagonal;
  o.threads = 1;
  invert(spec, A.view(), X.view(), o);
}

std::vector<std::string> parse_methods(const json& cfg, const std::string& source) {
  std::vector<std::string> out;
  const json& list = required_array(cfg, "methods", source);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string key = "methods[" + std::to_string(i) + "]";
    const std::string text = string_value(list[i], source, key);
    std::vector<std::string> specs;
    if (text == "all") {
      for (const auto& m : trinv_methods()) specs.push_back(m.name);
    } else {
      try {
        const MethodSpec spec = MethodSpec::parse(text);
        trinv_method(spec.name);
        dry_run(spec, Precision::uniform(format_by_name("fp64")), Diagonal::unit);
        specs.push_back(spec.to_string());
      } catch (const std::invalid_argument& e) {
        fail(source, key, e.what() + std::string(" (or \"all\")"));
      }
    }
    for (const auto& s : specs) {
      if (std::find(out.begin(), out.end(), s) != out.end()) fail(source, key, "method '" + s + "' listed twice");
      out.push_back(s);
    }
  }
  return out;
}

std::vector<PrecisionFlags> parse_precisions(const json& cfg, const std::string& source,
                                             std::vector<std::string>* states = nullptr) {
  std::vector<std::string> keys = {"format", "accumulate", "storage", "output", "rounding", "accumulation"};
  if (states) keys.push_back("state");  // kind "scan": the carried state's format
  std::vector<PrecisionFlags> out;
  std::set<std::string> seen;
  const json& list = required_array(cfg, "precisions", source);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string path = "precisions[" + std::to_string(i) + "]";
    const json& e = list[i];
    PrecisionFlags f;
    if (e.is_string()) {
      f.format = e.get<std::string>();
      if (states) states->push_back("");
    } else if (e.is_object()) {
      check_keys(e, keys, source, path + ".");
      if (!e.contains("format")) fail(source, path + ".format", "missing (allowed: " + joined(format_names()) + ")");
      f.format = string_value(e.at("format"), source, path + ".format");
      if (e.contains("accumulate")) f.accumulate = string_value(e.at("accumulate"), source, path + ".accumulate");
      if (e.contains("storage")) f.storage = string_value(e.at("storage"), source, path + ".storage");
      if (e.contains("output")) f.output = string_value(e.at("output"), source, path + ".output");
      if (e.contains("rounding")) f.rounding = string_value(e.at("rounding"), source, path + ".rounding");
      if (e.contains("accumulation")) f.accumulation = string_value(e.at("accumulation"), source, path + ".accumulation");
      if (states && e.contains("state")) {
        const std::string st = string_value(e.at("state"), source, path + ".state");
        try {
          format_by_name(st);
        } catch (const std::invalid_argument&) {
          fail(source, path + ".state", "unknown format '" + st + "' (allowed: " + joined(format_names()) + ")");
        }
        states->push_back(st);
      } else if (states) {
        states->push_back("");
      }
    } else {
      fail(source, path, "expected a format name or an object with keys " + joined(keys));
    }
    // make_precision names the flag ("--accumulate: unknown format 'x' (allowed: ...)").
    try {
      make_precision(f);
    } catch (const std::invalid_argument& err) {
      std::string msg = err.what();
      if (msg.rfind("--", 0) == 0) {
        const std::string flag = msg.substr(2, msg.find(':') - 2);
        fail(source, path + "." + flag, msg.substr(msg.find(':') + 2));
      }
      fail(source, path + ".accumulation", msg);
    }
    // A state format equal to the storage format is the default: one label for both.
    if (states && states->back() == make_precision(f).storage.name) states->back().clear();
    const std::string state = states ? states->back() : std::string();
    if (!seen.insert(precision_label(f) + "|" + f.accumulation + "|" + state).second) fail(source, path, "listed twice");
    out.push_back(f);
  }
  return out;
}

// One entry of a generator list: a name, or an object with `keys` (check_keys rejects any
// other; "name" required, dk and dv integers, beta, beta_max, gate and scale numbers).
// `what` names the entries in messages; `name_hint` follows "missing" for a missing name.
GeneratorParams generator_entry(const json& e, const std::vector<std::string>& keys, const std::string& source,
                                const std::string& path, const std::string& what, const std::string& name_hint) {
  GeneratorParams g;
  if (e.is_string()) {
    g.name = e.get<std::string>();
    return g;
  }
  if (!e.is_object()) fail(source, path, "expected a " + what + " name or an object with keys " + joined(keys));
  check_keys(e, keys, source, path + ".");
  if (!e.contains("name")) fail(source, path + ".name", "missing" + name_hint);
  g.name = string_value(e.at("name"), source, path + ".name");
  if (e.contains("dk")) g.dk = static_cast<index_t>(integer_value(e.at("dk"), source, path + ".dk", 1, 65536));
  if (e.contains("dv")) g.dv = static_cast<index_t>(integer_value(e.at("dv"), source, path + ".dv", 1, 65536));
  for (const char* k : {"beta", "beta_max", "gate", "scale"}) {
    if (!e.contains(k)) continue;
    const double x = number_value(e.at(k), source, path + "." + k);
    const std::string key(k);
    (key == "beta" ? g.beta : key == "beta_max" ? g.beta_max : key == "gate" ? g.gate : g.scale) = x;
  }
  return g;
}

std::vector<GeneratorParams> parse_generators(const json& cfg, const std::string& source) {
  static const std::vector<std::string> keys = {"name", "dk", "dv", "beta", "beta_max", "gate", "scale"};
  std::vector<GeneratorParams> out;
  std::set<std::string> seen;
  const json& list = required_array(cfg, "generators", source);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string path = "generators[" + std::to_string(i) + "]";
    const json& e = list[i];
    const GeneratorParams g = generator_entry(e, keys, source, path, "generator", "");
    try {
      generator_info(g.name);
      validate(g);
    } catch (const std::invalid_argument& err) {
      fail(source, path, err.what());
    }
    if (!seen.insert(generator_label(g)).second) fail(source, path, "'" + generator_label(g) + "' listed twice");
    out.push_back(g);
  }
  return out;
}

template <class T>
std::vector<T> parse_integers(const json& cfg, const std::string& key, long long lo, long long hi,
                              const std::string& source) {
  std::vector<T> out;
  const json& list = required_array(cfg, key, source);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const T x = static_cast<T>(integer_value(list[i], source, key + "[" + std::to_string(i) + "]", lo, hi));
    if (std::find(out.begin(), out.end(), x) != out.end())
      fail(source, key + "[" + std::to_string(i) + "]", std::to_string(x) + " listed twice");
    out.push_back(x);
  }
  return out;
}

// Cross-checks: every generator at every size, and every method under every precision and
// on every diagonal kind the generators produce (dry runs; see dry_run).
void check_combinations(const StudyConfig& c, const std::string& source) {
  for (std::size_t i = 0; i < c.generators.size(); ++i)
    for (index_t n : c.sizes) {
      GeneratorParams g = c.generators[i];
      g.n = n;
      try {
        validate(g);
      } catch (const std::invalid_argument& e) {
        fail(source, "generators[" + std::to_string(i) + "]", "at size " + std::to_string(n) + ": " + e.what());
      }
    }
  std::set<Diagonal> diagonals;
  for (const auto& g : c.generators) diagonals.insert(generator_info(g.name).diagonal);
  for (std::size_t i = 0; i < c.methods.size(); ++i)
    for (std::size_t j = 0; j < c.precisions.size(); ++j)
      for (Diagonal d : diagonals) {
        try {
          dry_run(MethodSpec::parse(c.methods[i]), make_precision(c.precisions[j]), d);
        } catch (const std::invalid_argument& e) {
          fail(source, "methods[" + std::to_string(i) + "]",
               c.methods[i] + " under precisions[" + std::to_string(j) + "]" +
                   (d == Diagonal::non_unit ? " on the non-unit generators" : "") + ": " + e.what());
        }
      }
}


}  // namespace

// ---- kinds wy and scan --------------------------------------------------------------

static std::vector<std::string> wy_representation_names() {
  std::vector<std::string> names;
  for (const auto& r : chunk_wy_representations()) names.push_back("chunk/" + r);
  for (const auto& m : householder_methods()) names.push_back(m.name);
  return names;
}

static bool is_chunk(const std::string& rep) { return rep.rfind("chunk/", 0) == 0; }

bool study_chunk_fits(const std::string& rep, const std::string& generator) {
  try {
    chunk_wy_family(rep.substr(6), generator);
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

// A spec list for kind wy ("all": every chunk/ and householder/ representation) or scan
// ("all": every registered scan algorithm).
static std::vector<std::string> parse_kind_methods(const json& cfg, const std::string& kind, const std::string& source) {
  std::vector<std::string> out;
  const json& list = required_array(cfg, "methods", source);
  const std::vector<std::string> wy_names = wy_representation_names();
  std::vector<std::string> scan_names;
  for (const auto& a : scan_algorithms()) scan_names.push_back(a.name);
  const std::vector<std::string>& allowed = kind == "wy" ? wy_names : scan_names;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string key = "methods[" + std::to_string(i) + "]";
    const std::string text = string_value(list[i], source, key);
    std::vector<std::string> specs;
    if (text == "all") {
      specs = allowed;
    } else if (kind == "wy" && is_chunk(text)) {
      if (std::find(allowed.begin(), allowed.end(), text) == allowed.end())
        fail(source, key, "unknown representation '" + text + "' (allowed: " + joined(allowed) + ", or \"all\")");
      specs.push_back(text);
    } else {
      try {
        const MethodSpec spec = MethodSpec::parse(text);
        if (kind == "wy") {
          if (spec.name.rfind("householder/", 0) != 0) throw std::invalid_argument("not a WY representation");
          householder_method(spec.name);
        } else {
          scan_algorithm(spec.name);
        }
        specs.push_back(spec.to_string());
      } catch (const std::invalid_argument& e) {
        fail(source, key, "'" + text + "': " + e.what() + " (allowed: " + joined(allowed) + ", or \"all\")");
      }
    }
    for (const auto& s : specs) {
      if (std::find(out.begin(), out.end(), s) != out.end()) fail(source, key, "method '" + s + "' listed twice");
      out.push_back(s);
    }
  }
  return out;
}

ScanCase study_scan_case(const StudyConfig& c, std::size_t kind_index, index_t length, std::uint64_t seed) {
  ScanCase sc;
  sc.kind = scan_kind_by_name(c.scan_kinds[kind_index]);
  sc.length = length;
  sc.dim = c.scan_dim;
  sc.decay_min = c.decay_min;
  if (sc.kind == ScanKind::delta) {
    sc.gate = c.gate == "scalar" ? DeltaGate::scalar : c.gate == "channel" ? DeltaGate::channel : DeltaGate::none;
    sc.gate_value = c.gate_value;
  }
  sc.seed = seed;
  return sc;
}

ScanOptions study_scan_options(const StudyConfig& c, std::size_t p, std::uint64_t seed) {
  PrecisionFlags flags = c.precisions[p];
  flags.seed = seed;
  ScanOptions o;
  o.precision = make_precision(flags);
  if (!c.state_formats[p].empty()) o.state_format = format_by_name(c.state_formats[p]);
  o.threads = 1;
  return o;
}

// Kind scan: every algorithm under every precision on every kind, a 2-token dry run (the
// library checks algorithm parameters and the formats exactly as a real run would).
static void check_scan_combinations(const StudyConfig& c, const std::string& source) {
  for (std::size_t i = 0; i < c.methods.size(); ++i)
    for (std::size_t p = 0; p < c.precisions.size(); ++p)
      for (std::size_t k = 0; k < c.scan_kinds.size(); ++k) {
        try {
          const ScanOptions o = study_scan_options(c, p, 0);
          const ScanData data = generate_scan(study_scan_case(c, k, 2, 0), o.precision.operand);
          const ScanInput<double> in = data.input();
          std::vector<double> h(static_cast<std::size_t>(in.tokens() * in.state_size()));
          scan(MethodSpec::parse(c.methods[i]), in, h.data(), o);
        } catch (const std::invalid_argument& e) {
          fail(source, "methods[" + std::to_string(i) + "]",
               c.methods[i] + " under precisions[" + std::to_string(p) + "] on scan kind " + c.scan_kinds[k] +
                   ": " + e.what());
        }
      }
}

HouseholderCase study_householder_case(const StudyConfig& c, const std::string& rep, const PrecisionFlags& flags,
                                    const GeneratorParams& g, index_t r, std::uint64_t seed) {
  HouseholderCase hc;
  hc.representation = MethodSpec::parse(rep);
  PrecisionFlags f = flags;
  f.seed = seed;
  hc.precision = make_precision(f);
  hc.r = r;
  hc.m = g.dk.value_or(default_head_dim);
  hc.reflectors = c.reflectors;
  hc.generator = g;
  hc.generator->n = r;
  hc.generator->seed = seed;
  hc.seed = seed;
  return hc;
}

// Kind wy: every chunk/ representation fits at least one generator; every pair that
// fits (and every householder/ representation with every generator) is dry-run cheaply:
// the family check, the trinv method under each precision, and the Householder inputs.
static void check_wy_combinations(const StudyConfig& c, const std::string& source) {
  for (std::size_t i = 0; i < c.methods.size(); ++i) {
    const std::string& rep = c.methods[i];
    if (!is_chunk(rep)) continue;
    bool any = false;
    for (const auto& g : c.generators) any = any || study_chunk_fits(rep, g.name);
    if (!any)
      fail(source, "methods[" + std::to_string(i) + "]",
           rep + " fits none of the generators (chunk/deltanet, chunk/deltaproduct: deltanet*; chunk/gated: gated "
                 "(chunk/deltaproduct too); chunk/kda: kda; chunk/dplr: dplr)");
  }
  for (std::size_t p = 0; p < c.precisions.size(); ++p) {
    try {
      dry_run(MethodSpec::parse(c.trinv_method), make_precision(c.precisions[p]), Diagonal::unit);
    } catch (const std::invalid_argument& e) {
      fail(source, "trinv_method", c.trinv_method + " under precisions[" + std::to_string(p) + "]: " + e.what());
    }
  }
  for (std::size_t i = 0; i < c.methods.size(); ++i) {
    if (is_chunk(c.methods[i])) continue;
    for (std::size_t j = 0; j < c.generators.size(); ++j)
      for (std::size_t p = 0; p < c.precisions.size(); ++p) {
        try {
          make_householder_input(study_householder_case(c, c.methods[i], c.precisions[p], c.generators[j], 1, 0));
        } catch (const std::invalid_argument& e) {
          fail(source, "methods[" + std::to_string(i) + "]",
               c.methods[i] + " on generators[" + std::to_string(j) + "] under precisions[" + std::to_string(p) +
                   "]: " + e.what());
        }
      }
  }
}

// ---- kind delta ------------------------------------------------------------------------

std::string study_delta_family(const std::string& generator) {
  if (generator.rfind("deltanet", 0) == 0) return "deltanet";
  if (generator == "gated" || generator == "kda") return generator;
  return "";
}

static const std::vector<std::string> delta_generator_names = {"deltanet", "deltanet-beta2", "deltanet-correlated",
                                                               "deltanet-equal", "gated", "kda"};

// "families": generator names or objects {name, gate, beta, beta_max}; only the
// delta-rule generators (the family follows the name).
static std::vector<GeneratorParams> parse_families(const json& cfg, const std::string& source) {
  static const std::vector<std::string> keys = {"name", "gate", "beta", "beta_max"};
  std::vector<GeneratorParams> out;
  std::set<std::string> seen;
  const json& list = required_array(cfg, "families", source);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string path = "families[" + std::to_string(i) + "]";
    const json& e = list[i];
    const GeneratorParams g =
        generator_entry(e, keys, source, path, "family", " (allowed: " + joined(delta_generator_names) + ")");
    const std::string name_key = e.is_object() ? path + ".name" : path;
    if (std::find(delta_generator_names.begin(), delta_generator_names.end(), g.name) == delta_generator_names.end())
      fail(source, name_key, "unknown family '" + g.name + "' (allowed: " + joined(delta_generator_names) +
                                 "; deltanet* run the deltanet family)");
    if (g.gate && g.name != "gated")
      fail(source, path + ".gate", "only the gated family takes a gate (kda draws its per-channel gates)");
    try {
      validate(g);
    } catch (const std::invalid_argument& err) {
      fail(source, path, err.what());
    }
    if (!seen.insert(generator_label(g)).second) fail(source, path, "'" + generator_label(g) + "' listed twice");
    out.push_back(g);
  }
  return out;
}

DeltaForwardCase study_delta_case(const StudyConfig& c, std::size_t p, std::size_t family, index_t chunk,
                                  index_t length, std::uint64_t seed) {
  DeltaForwardCase dc;
  dc.generator = c.generators[family];
  dc.family = study_delta_family(dc.generator.name);
  dc.generator.dk = c.dk;
  dc.generator.dv = c.dv;
  dc.generator.n = chunk;
  dc.generator.seed = seed;
  dc.length = length;
  dc.heads = c.heads;
  dc.chunk = chunk;
  dc.method = MethodSpec::parse(c.trinv_method);
  PrecisionFlags flags = c.precisions[p];
  flags.seed = seed;  // stochastic rounding: the run's own seed
  dc.precision = make_precision(flags);
  dc.state_format = c.state_formats[p].empty() ? dc.precision.storage : format_by_name(c.state_formats[p]);
  dc.initial_state = c.initial_state;
  return dc;
}

// Kind delta: every family at every chunk size (the generator's own checks), and every
// precision with its state format and the trinv method on every family: a 2-token
// forward against its MPFR recurrence (the library checks the formats exactly as a real
// run would).
static void check_delta_combinations(const StudyConfig& c, const std::string& source) {
  for (std::size_t g = 0; g < c.generators.size(); ++g)
    for (index_t C : c.chunks) {
      GeneratorParams gp = c.generators[g];
      gp.n = C;
      gp.dk = c.dk;
      gp.dv = c.dv;
      try {
        validate(gp);
      } catch (const std::invalid_argument& e) {
        fail(source, "families[" + std::to_string(g) + "]",
             "at chunk size " + std::to_string(C) + " with dk = " + std::to_string(c.dk) + ", dv = " +
                 std::to_string(c.dv) + ": " + e.what());
      }
    }
  for (std::size_t p = 0; p < c.precisions.size(); ++p)
    for (std::size_t g = 0; g < c.generators.size(); ++g) {
      try {
        run_delta_forward_case(study_delta_case(c, p, g, c.chunks.front(), 2, 0));
      } catch (const std::invalid_argument& e) {
        fail(source, "precisions[" + std::to_string(p) + "]",
             study_precision_label(c, p) + " on families[" + std::to_string(g) + "] with " + c.trinv_method + ": " +
                 e.what());
      }
    }
}

namespace {

std::string shortest_repr(double x) {
  char buf[64];
  for (int digits = 6; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
  return buf;
}

}  // namespace

std::string generator_label(const GeneratorParams& g) {
  std::vector<std::string> opts;
  if (g.dk) opts.push_back("dk=" + std::to_string(*g.dk));
  if (g.dv) opts.push_back("dv=" + std::to_string(*g.dv));
  if (g.beta) opts.push_back("beta=" + shortest_repr(*g.beta));
  if (g.beta_max) opts.push_back("beta_max=" + shortest_repr(*g.beta_max));
  if (g.gate) opts.push_back("gate=" + shortest_repr(*g.gate));
  if (g.scale) opts.push_back("scale=" + shortest_repr(*g.scale));
  std::string s = g.name;
  if (!opts.empty()) {
    s += "(";
    for (std::size_t i = 0; i < opts.size(); ++i) s += (i ? "," : "") + opts[i];
    s += ")";
  }
  return s;
}

std::string precision_label(const PrecisionFlags& p) {
  std::string s = p.format;
  if (!p.accumulate.empty() && p.accumulate != p.format) s += "/" + p.accumulate + "acc";
  if (!p.storage.empty() && p.storage != p.format) s += "/" + p.storage + "st";
  if (!p.output.empty() && p.output != p.format) s += "/" + p.output + "out";
  if (!p.accumulation.empty()) s += p.accumulation == "exact-products" ? "/exact" : "/rounded";
  return s + " " + p.rounding;
}

const std::vector<std::string>& study_report_metric_names(const std::string& kind) {
  static const std::vector<std::string> wy = {"representation_error", "w_error", "u_error", "orthogonality_loss",
                                              "cond"};
  static const std::vector<std::string> scan = {"forward_error", "max_rel_error", "bound_ratio"};
  if (kind == "wy") return wy;
  if (kind == "scan") return scan;
  if (kind == "delta") return study_report_metric_names_delta;
  return study_report_metric_names_inversion;
}

std::string study_precision_label(const StudyConfig& c, std::size_t i) {
  std::string s = precision_label(c.precisions[i]);
  if ((c.kind == "scan" || c.kind == "delta") && i < c.state_formats.size() && !c.state_formats[i].empty())
    s.insert(s.rfind(' '), "/" + c.state_formats[i] + "state");
  return s;
}

std::string study_input_label(const StudyConfig& c, std::size_t i) {
  if (c.kind != "scan") return generator_label(c.generators[i]);
  return c.scan_kinds[i] + "(d=" + std::to_string(c.scan_dim) + ")";
}

static StudyConfig parse_single(const json& cfg, const std::string& source);

StudyConfig parse_study_config(const std::string& json_text, const std::string& source) {
  json cfg;
  try {
    cfg = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw std::invalid_argument("study config " + source + ": not valid JSON: " + e.what());
  }
  if (!cfg.is_object()) throw std::invalid_argument("study config " + source + ": expected a JSON object");
  if (!cfg.contains("parts")) return parse_single(cfg, source);
  // A study of parts (docs/study.md "Parts"): name and description here, each part a
  // config of its own kind; a part's problems are named "parts[i].<key>".
  check_keys(cfg, {"name", "description", "parts"}, source, "");
  StudyConfig c;
  c.kind = "parts";
  if (cfg.contains("name")) c.name = string_value(cfg.at("name"), source, "name");
  if (cfg.contains("description")) c.description = string_value(cfg.at("description"), source, "description");
  const json& parts = required_array(cfg, "parts", source);
  const std::string prefix = "study config " + source + ": '";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string path = "parts[" + std::to_string(i) + "]";
    if (!parts[i].is_object()) fail(source, path, "expected a study config object (keys of its kind)");
    if (parts[i].contains("parts")) fail(source, path + ".parts", "parts do not nest");
    if (parts[i].contains("name")) fail(source, path + ".name", "a part takes the study's name (allowed at the top level)");
    StudyConfig part;
    try {
      part = parse_single(parts[i], source);
    } catch (const std::invalid_argument& e) {
      std::string msg = e.what();
      if (msg.rfind(prefix, 0) == 0) msg.insert(prefix.size(), path + ".");
      throw std::invalid_argument(msg);
    }
    for (std::size_t j = 0; j < c.parts.size(); ++j)
      if (c.parts[j].kind == part.kind)
        fail(source, path + ".kind", "'" + part.kind + "' is also the kind of parts[" + std::to_string(j) +
                                         "] (each part has its own kind: " + joined(study_kinds) + ")");
    c.parts.push_back(std::move(part));
  }
  return c;
}

static StudyConfig parse_single(const json& cfg, const std::string& source) {
  StudyConfig c;
  if (cfg.contains("kind")) c.kind = string_value(cfg.at("kind"), source, "kind");
  if (std::find(study_kinds.begin(), study_kinds.end(), c.kind) == study_kinds.end())
    fail(source, "kind", "unknown kind '" + c.kind + "' (allowed: " + joined(study_kinds) + "; or a study of \"parts\")");
  // The keys each kind accepts (docs/study.md "Config schema").
  std::vector<std::string> keys = {"name", "description", "kind", "methods", "precisions", "sizes", "seeds",
                                   "report_metrics"};
  if (c.kind == "inversion") keys.insert(keys.end(), {"generators", "check_accuracy"});
  if (c.kind == "wy")
    keys.insert(keys.end(), {"generators", "check_accuracy", "trinv_method", "householder_steps", "reflectors"});
  if (c.kind == "scan") keys.insert(keys.end(), {"scan_kinds", "dim", "decay_min", "gate", "gate_value"});
  if (c.kind == "delta") {  // the chunk sizes stand for methods
    keys.erase(std::find(keys.begin(), keys.end(), "methods"));
    keys.insert(keys.end(), {"families", "chunks", "heads", "dk", "dv", "trinv_method", "initial_state"});
  }
  for (const auto& item : cfg.items())
    if (std::find(keys.begin(), keys.end(), item.key()) == keys.end())
      fail(source, item.key(), "unknown key for kind '" + c.kind + "' (allowed: " + joined(keys) + ")");
  if (cfg.contains("name")) c.name = string_value(cfg.at("name"), source, "name");
  if (cfg.contains("description")) c.description = string_value(cfg.at("description"), source, "description");
  if (cfg.contains("check_accuracy")) {
    if (!cfg.at("check_accuracy").is_boolean()) fail(source, "check_accuracy", "expected true or false");
    c.check_accuracy = cfg.at("check_accuracy").get<bool>();
  }
  const std::vector<std::string>& metric_names = study_report_metric_names(c.kind);
  c.report_metrics = {metric_names.front()};
  if (cfg.contains("report_metrics")) {
    c.report_metrics.clear();
    const json& list = required_array(cfg, "report_metrics", source);
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string key = "report_metrics[" + std::to_string(i) + "]";
      const std::string m = string_value(list[i], source, key);
      if (std::find(metric_names.begin(), metric_names.end(), m) == metric_names.end())
        fail(source, key, "unknown metric '" + m + "' for kind '" + c.kind + "' (allowed: " + joined(metric_names) + ")");
      c.report_metrics.push_back(m);
    }
  }
  std::size_t inputs = 0;
  index_t max_size = study_max_size;
  if (c.kind == "inversion") {
    c.methods = parse_methods(cfg, source);
    c.precisions = parse_precisions(cfg, source);
    c.generators = parse_generators(cfg, source);
    inputs = c.generators.size();
  } else if (c.kind == "wy") {
    c.methods = parse_kind_methods(cfg, "wy", source);
    c.precisions = parse_precisions(cfg, source);
    c.generators = parse_generators(cfg, source);
    inputs = c.generators.size();
    if (cfg.contains("trinv_method")) {
      const std::string text = string_value(cfg.at("trinv_method"), source, "trinv_method");
      try {
        const MethodSpec spec = MethodSpec::parse(text);
        trinv_method(spec.name);
        dry_run(spec, Precision::uniform(format_by_name("fp64")), Diagonal::unit);
        c.trinv_method = spec.to_string();
      } catch (const std::invalid_argument& e) {
        fail(source, "trinv_method", e.what());
      }
    }
    if (cfg.contains("householder_steps"))
      c.householder_steps = static_cast<index_t>(integer_value(cfg.at("householder_steps"), source, "householder_steps", 1, 64));
    if (cfg.contains("reflectors")) {
      if (!cfg.at("reflectors").is_boolean()) fail(source, "reflectors", "expected true or false");
      c.reflectors = cfg.at("reflectors").get<bool>();
    }
  } else if (c.kind == "delta") {
    max_size = study_max_length;
    c.precisions = parse_precisions(cfg, source, &c.state_formats);
    c.generators = parse_families(cfg, source);
    inputs = c.generators.size();
    c.chunks = parse_integers<index_t>(cfg, "chunks", 1, 1024, source);
    for (std::size_t i = 0; i < c.chunks.size(); ++i) {
      if (c.chunks[i] != 16 && c.chunks[i] != 32 && c.chunks[i] != 64 && c.chunks[i] != 128)
        fail(source, "chunks[" + std::to_string(i) + "]",
             std::to_string(c.chunks[i]) + " is not a chunk size of the forward (allowed: 16, 32, 64, 128)");
      c.methods.push_back("chunkwise/C=" + std::to_string(c.chunks[i]));
    }
    if (cfg.contains("heads")) c.heads = static_cast<index_t>(integer_value(cfg.at("heads"), source, "heads", 1, 64));
    if (cfg.contains("dk")) c.dk = static_cast<index_t>(integer_value(cfg.at("dk"), source, "dk", 1, 256));
    if (cfg.contains("dv")) c.dv = static_cast<index_t>(integer_value(cfg.at("dv"), source, "dv", 1, 256));
    if (cfg.contains("initial_state")) {
      if (!cfg.at("initial_state").is_boolean()) fail(source, "initial_state", "expected true or false");
      c.initial_state = cfg.at("initial_state").get<bool>();
    }
    if (cfg.contains("trinv_method")) {
      const std::string text = string_value(cfg.at("trinv_method"), source, "trinv_method");
      try {
        const MethodSpec spec = MethodSpec::parse(text);
        trinv_method(spec.name);
        dry_run(spec, Precision::uniform(format_by_name("fp64")), Diagonal::unit);
        c.trinv_method = spec.to_string();
      } catch (const std::invalid_argument& e) {
        fail(source, "trinv_method", e.what());
      }
    }
  } else {  // scan
    max_size = study_max_length;
    c.methods = parse_kind_methods(cfg, "scan", source);
    c.precisions = parse_precisions(cfg, source, &c.state_formats);
    const json& kinds = required_array(cfg, "scan_kinds", source);
    for (std::size_t i = 0; i < kinds.size(); ++i) {
      const std::string key = "scan_kinds[" + std::to_string(i) + "]";
      const std::string k = string_value(kinds[i], source, key);
      try {
        scan_kind_by_name(k);
      } catch (const std::invalid_argument&) {
        fail(source, key, "unknown scan kind '" + k + "' (allowed: scalar, diagonal, log_diagonal, dense, delta)");
      }
      if (std::find(c.scan_kinds.begin(), c.scan_kinds.end(), k) != c.scan_kinds.end())
        fail(source, key, "'" + k + "' listed twice");
      c.scan_kinds.push_back(k);
    }
    inputs = c.scan_kinds.size();
    if (cfg.contains("dim")) c.scan_dim = static_cast<index_t>(integer_value(cfg.at("dim"), source, "dim", 1, 64));
    if (cfg.contains("decay_min")) {
      c.decay_min = number_value(cfg.at("decay_min"), source, "decay_min");
      if (!(c.decay_min > 0 && c.decay_min <= 1)) fail(source, "decay_min", cfg.at("decay_min").dump() + " out of range (0, 1]");
    }
    if (cfg.contains("gate")) {
      c.gate = string_value(cfg.at("gate"), source, "gate");
      if (c.gate != "none" && c.gate != "scalar" && c.gate != "channel")
        fail(source, "gate", "unknown gate '" + c.gate + "' (allowed: none, scalar, channel)");
    }
    if (cfg.contains("gate_value")) {
      c.gate_value = number_value(cfg.at("gate_value"), source, "gate_value");
      if (!(c.gate_value >= -700 && c.gate_value <= 0))
        fail(source, "gate_value", cfg.at("gate_value").dump() + " out of range [-700, 0]");
    }
  }
  c.sizes = parse_integers<index_t>(cfg, "sizes", 1, max_size, source);
  c.seeds = parse_integers<std::uint64_t>(cfg, "seeds", 0, (1LL << 62), source);
  const double runs = static_cast<double>(c.methods.size()) * static_cast<double>(c.precisions.size()) *
                      static_cast<double>(inputs) * static_cast<double>(c.sizes.size()) *
                      static_cast<double>(c.seeds.size());
  if (runs > static_cast<double>(study_max_runs))
    fail(source, "seeds", "the sweep has " + shortest_repr(runs) + " runs, more than " +
                              std::to_string(study_max_runs));
  if (c.kind == "inversion") check_combinations(c, source);
  if (c.kind == "wy") {
    StudyConfig sizes_only = c;  // every generator at every size
    sizes_only.methods.clear();
    check_combinations(sizes_only, source);
    check_wy_combinations(c, source);
  }
  if (c.kind == "scan") check_scan_combinations(c, source);
  if (c.kind == "delta") check_delta_combinations(c, source);
  return c;
}

StudyConfig load_study_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("--config: cannot read '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  StudyConfig c = parse_study_config(ss.str(), path);
  if (c.name.empty()) {
    std::string stem = path.substr(path.find_last_of('/') + 1);
    c.name = stem.substr(0, stem.rfind('.'));
  }
  return c;
}

std::vector<std::string> study_preset_names() {
  std::vector<std::string> names;
  for (const auto& p : study_embedded_presets()) names.push_back(p.first);
  return names;
}

std::string study_preset_json(const std::string& name) {
  for (const auto& p : study_embedded_presets())
    if (p.first == name) return p.second;
  throw std::invalid_argument("--preset: unknown preset '" + name + "' (allowed: " + joined(study_preset_names()) + ")");
}

StudyConfig study_preset(const std::string& name) {
  StudyConfig c = parse_study_config(study_preset_json(name), "preset " + name);
  if (c.name.empty()) c.name = name;
  return c;
}

std::vector<StudyRun> plan_study(const StudyConfig& c) {
  if (!c.parts.empty()) {
    std::vector<StudyRun> plan;
    for (std::size_t i = 0; i < c.parts.size(); ++i)
      for (StudyRun r : plan_study(c.parts[i])) {
        r.index = plan.size();
        r.part = i;
        plan.push_back(std::move(r));
      }
    return plan;  // keys differ across parts: they start with the part's (distinct) kind
  }
  // Options that change a run's numbers without appearing in its labels go into the key,
  // so that --resume never reuses a row computed under other options.
  std::string options;
  if (c.kind == "wy")
    options = "|" + c.trinv_method + "|nh=" + std::to_string(c.householder_steps) + (c.reflectors ? "|reflectors" : "");
  if (c.kind == "scan")
    options = "|decay_min=" + shortest_repr(c.decay_min) + "|gate=" + c.gate + ":" + shortest_repr(c.gate_value);
  if (c.kind == "delta")
    options = "|" + c.trinv_method + "|H=" + std::to_string(c.heads) + "|dk=" + std::to_string(c.dk) +
              "|dv=" + std::to_string(c.dv) + (c.initial_state ? "|initial_state" : "");
  const std::size_t inputs = c.kind == "scan" ? c.scan_kinds.size() : c.generators.size();
  std::vector<StudyRun> plan;
  for (const auto& m : c.methods)
    for (std::size_t p = 0; p < c.precisions.size(); ++p)
      for (std::size_t g = 0; g < inputs; ++g) {
        if (c.kind == "wy" && m.rfind("chunk/", 0) == 0 && !study_chunk_fits(m, c.generators[g].name)) continue;
        for (index_t n : c.sizes)
          for (std::uint64_t seed : c.seeds) {
            StudyRun r;
            r.index = plan.size();
            r.method = m;
            r.precision = p;
            r.generator = g;
            r.n = n;
            r.seed = seed;
            r.key = c.kind + "|" + m + "|" + study_precision_label(c, p) + "|" + study_input_label(c, g) + "|" +
                    std::to_string(n) + "|" + std::to_string(seed) + options;
            plan.push_back(std::move(r));
          }
      }
  return plan;
}

}  // namespace triscan::validation
