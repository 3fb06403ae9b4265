// src/trinv/registry.cpp — the registry of triangular-inversion methods: the direct
// methods (direct.cpp) followed by the iterative ones (iterative.cpp), looked up by name.
#include <stdexcept>
#include <string>

#include "src/trinv/method.hpp"

namespace triscan::trinv_detail {
namespace {

std::string registered_names() {
  std::string out;
  for (const auto& m : registry()) out += (out.empty() ? "" : ", ") + m.info.name;
  return out;
}

std::vector<MethodImpl> build_registry() {
  std::vector<MethodImpl> all = direct_methods();
  for (auto& m : iterative_methods()) all.push_back(std::move(m));
  for (std::size_t i = 0; i < all.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (all[i].info.name == all[j].info.name)
        throw std::logic_error("trinv registry: method '" + all[i].info.name + "' registered twice");
  return all;
}

// The kernel of `m` for the arithmetic model A.
const Kernel<arith::Native<double>>& kernel_for(const MethodImpl& m, const arith::Native<double>&) { return m.run_f64; }
const Kernel<arith::Native<float>>& kernel_for(const MethodImpl& m, const arith::Native<float>&) { return m.run_f32; }
const Kernel<arith::Simulated>& kernel_for(const MethodImpl& m, const arith::Simulated&) { return m.run_sim; }

}  // namespace

const std::vector<MethodImpl>& registry() {
  static const std::vector<MethodImpl> methods = build_registry();
  return methods;
}

const MethodImpl& find_method(const std::string& name) {
  for (const auto& m : registry())
    if (m.info.name == name) return m;
  throw std::invalid_argument("unknown triangular-inversion method '" + name + "' (registered: " +
                              registered_names() + ")");
}

template <class A>
MethodOutcome run_method(const MethodSpec& spec, A& arith, MatrixView<const typename A::value_type> L,
                         MatrixView<typename A::value_type> X, const Context& ctx) {
  const MethodImpl& m = find_method(spec.name);
  m.validate(spec);
  return kernel_for(m, arith)(spec, arith, L, X, ctx);
}

template MethodOutcome run_method(const MethodSpec&, arith::Native<double>&, MatrixView<const double>,
                                  MatrixView<double>, const Context&);
template MethodOutcome run_method(const MethodSpec&, arith::Native<float>&, MatrixView<const float>,
                                  MatrixView<float>, const Context&);
template MethodOutcome run_method(const MethodSpec&, arith::Simulated&, MatrixView<const double>,
                                  MatrixView<double>, const Context&);

}  // namespace triscan::trinv_detail

namespace triscan {

const std::vector<TrinvMethodInfo>& trinv_methods() {
  static const std::vector<TrinvMethodInfo> infos = [] {
    std::vector<TrinvMethodInfo> out;
    for (const auto& m : trinv_detail::registry()) out.push_back(m.info);
    return out;
  }();
  return infos;
}

const TrinvMethodInfo& trinv_method(std::string_view name) {
  return trinv_detail::find_method(std::string(name)).info;
}

}  // namespace triscan
