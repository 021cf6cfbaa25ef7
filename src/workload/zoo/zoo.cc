// Placeholder while the zoo lands.
#include "workload/zoo/zoo.h"
namespace wattlab::zoo {
std::vector<std::string> Names() { return {}; }
Result<Shape> NativeInput(const std::string&) { return Status::NotSupported("zoo not built yet"); }
int64_t NativeClasses(const std::string&) { return 10; }
Result<std::shared_ptr<Net>> Build(const std::string&, const Shape&, int64_t) { return Status::NotSupported("zoo not built yet"); }
Result<ModelFacts> CountAnalytic(const std::string&, const Shape&, int64_t) { return Status::NotSupported("zoo not built yet"); }
Result<OpCounts> CountTraced(const std::function<torch::Tensor(const torch::Tensor&)>&, const Shape&) { return Status::NotSupported("zoo not built yet"); }
int64_t CountTrainableParams(torch::nn::Module&) { return 0; }
}  // namespace wattlab::zoo
