// wattlab._native: the meter library for a Python process that has no
// wattlab parent (python/wattlab/__init__.py). One Meter over the real
// machine (the same detection as `wattlab meters`: RAPL, NVML, or the
// labelled estimate), started on construction; windows begin and end by id
// and come back as the JSON text of meter/json.h's window shape, which the
// package parses (so the extension holds no Python object model of its own).
//
// Thread-safety: the Meter is thread-safe; the GIL is released while the
// meter reads its sources at a window's edges.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <memory>
#include <string>

#include "core/env.h"
#include "core/strings.h"
#include "meter/json.h"
#include "meter/local_rank.h"
#include "platform/real_env.h"
#include "wattlab/meter.h"

namespace py = pybind11;

namespace {

[[noreturn]] void Throw(const wattlab::Status& st) { throw std::runtime_error("wattlab: " + st.message()); }

class PyMeter {
 public:
  explicit PyMeter(double interval_s) {
    env_ = wattlab::NewRealEnv(wattlab::RootsFromProcessEnvironment());
    wattlab::MeterOptions o;
    if (interval_s <= 0) throw std::invalid_argument("interval_s must be > 0");
    o.interval = std::chrono::nanoseconds(static_cast<int64_t>(interval_s * 1e9));
    if (auto v = env_->GetEnvVar("WATTLAB_CPU_TDP_W"); v && !v->empty()) {
      auto w = wattlab::ParseNumber(*v);
      if (!w || *w <= 0) throw std::invalid_argument("WATTLAB_CPU_TDP_W is not a positive number: " + *v);
      o.cpu_tdp_w = *w;
    }
    if (auto v = env_->GetEnvVar("WATTLAB_NVML_LIBRARY"); v && !v->empty()) o.nvml_library = *v;
    if (auto v = env_->GetEnvVar("WATTLAB_ESTIMATE_PROFILE"); v && !v->empty()) o.estimate_profile = *v;
    // One meter per node (docs/scale.md): under torchrun or srun only local
    // rank 0 reads the node; another rank's windows carry its CPU-time share.
    auto rank = wattlab::LocalRankFromEnv(env_.get());
    if (!rank.ok()) throw std::invalid_argument(rank.status().message());
    if (*rank) o.local_rank = (*rank)->rank;
    auto m = wattlab::Meter::Create(env_.get(), o);
    if (!m.ok()) Throw(m.status());
    meter_ = std::move(*m);
    meter_->SetAttributionPid(env_->Pid());
    wattlab::Status st = meter_->Start();
    if (!st.ok()) Throw(st);
    // t = 0 of the meter on the wall clock (window start_s counts from it).
    const double wall = env_->NowWallSeconds();
    auto probe = meter_->BeginWindow("start");
    auto r = meter_->EndWindow(probe);
    start_unix_s_ = r.ok() ? wall - r->start_s : wall;
  }
  ~PyMeter() {
    if (meter_) (void)meter_->Stop();
  }

  int64_t BeginWindow(const std::string& name) {
    py::gil_scoped_release release;
    return meter_->BeginWindow(name);
  }
  std::string EndWindow(int64_t id, int64_t samples) {
    wattlab::Result<wattlab::WindowResult> r = wattlab::Status::Internal("unset");
    {
      py::gil_scoped_release release;
      r = meter_->EndWindow(id);
    }
    if (!r.ok()) Throw(r.status());
    std::optional<wattlab::WindowWork> work;
    if (samples >= 0) work = wattlab::WindowWork{samples, std::nullopt};
    nlohmann::json j = wattlab::WindowToJson(*r, work);
    j["start_unix_s"] = start_unix_s_ + r->start_s;
    return j.dump();
  }
  void SetIdlePower(double w) { meter_->SetIdlePower(w); }
  std::vector<std::string> Sources() const { return meter_->sources(); }
  bool Estimated() const { return meter_->estimated(); }
  bool NodeMetered() const { return meter_->node_metered(); }
  double Interval() const { return std::chrono::duration<double>(meter_->interval()).count(); }
  void Stop() {
    py::gil_scoped_release release;
    wattlab::Status st = meter_->Stop();
    if (!st.ok()) Throw(st);
  }

 private:
  std::unique_ptr<wattlab::Env> env_;
  std::unique_ptr<wattlab::Meter> meter_;
  double start_unix_s_ = 0;
};

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "wattlab's meter in-process (RAPL, NVML or the labelled estimate); see python/wattlab";
  py::class_<PyMeter>(m, "Meter")
      .def(py::init<double>(), py::arg("interval_s") = 0.1)
      .def("begin_window", &PyMeter::BeginWindow, py::arg("name"))
      .def("end_window", &PyMeter::EndWindow, py::arg("id"), py::arg("samples") = -1,
           "Ends a window; returns its JSON (meter/json.h's window shape); samples < 0: not known")
      .def("set_idle_power", &PyMeter::SetIdlePower, py::arg("idle_power_w"))
      .def("stop", &PyMeter::Stop)
      .def_property_readonly("sources", &PyMeter::Sources)
      .def_property_readonly("estimated", &PyMeter::Estimated)
      .def_property_readonly("node_metered", &PyMeter::NodeMetered,
                             "False where local rank 0 meters this node (SLURM_LOCALID / LOCAL_RANK > 0)")
      .def_property_readonly("interval_s", &PyMeter::Interval);
}
