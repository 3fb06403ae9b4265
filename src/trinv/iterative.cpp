// Placeholder until trinv-iterative's src/trinv/iterative.cpp is merged (the lead
// resolves this file at merge in favour of theirs): no iterative methods yet.
#include "src/trinv/method.hpp"

namespace triscan::trinv_detail {
std::vector<MethodImpl> iterative_methods() { return {}; }
}  // namespace triscan::trinv_detail
