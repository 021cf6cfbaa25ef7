// wattlab place --model NAME --link LINK (--edge-db FILE | --edge-energy-j J)
// (--cloud-db FILE | --cloud-energy-j J) [...]: edge or cloud (or a split
// between them), per request, in joules, with both network views,
// sensitivity, carbon and every assumption. Parsing and printing only; the
// model is src/analysis/placement.h, its coefficients and sources
// docs/placement.md.
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include "analysis/placement.h"
#include "catalog/catalog.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "core/energy_basis.h"
#include "core/strings.h"
#include "platform/plugin.h"
#include "store/store.h"

namespace wattlab::cli {

namespace {

struct Place {
  std::string model, link, edge_db, cloud_db, profile, input, energy, edge_region, cloud_region;
  std::optional<double> edge_energy_j, cloud_energy_j, up_bytes, down_bytes, edge_intensity, cloud_intensity;
  std::optional<int64_t> classes;
  double requests_per_day = 10000, input_bytes_per_element = 1, activation_bytes_per_element = 4,
         compression = 1;
  bool json = false, no_split = false;
  int Run();
};

// Intensity from --X-intensity or --X-region (not both), else the world default.
Result<analysis::Carbon> Intensity(const std::string& side, const std::optional<double>& g,
                                   const std::string& region) {
  if (g && !region.empty())
    return Status::InvalidArgument("give either --" + side + "-intensity or --" + side + "-region, not both");
  analysis::AnalysisOptions o;
  o.intensity_g_per_kwh = g;
  o.region = region;
  auto c = analysis::ComputeCarbon(0, o, "");
  if (!c.ok()) {
    // ComputeCarbon names analyze's flags; say which end this is.
    std::string m = c.status().message();
    for (const std::string flag : {"--region", "--intensity"}) {
      auto at = m.find(flag);
      if (at != std::string::npos) m.replace(at, flag.size(), "--" + side + "-" + flag.substr(2));
    }
    return Status::InvalidArgument(m);
  }
  if (g) c->intensity_source = "--" + side + "-intensity";
  return c;
}

std::string J(double v) { return Sci(v); }

void PrintText(const analysis::PlacementResult& r) {
  const auto& in = r.input;
  std::printf("wattlab place: %s over %s, %s requests/day\n", in.model.c_str(), in.link.name.c_str(),
              FormatDouble(in.requests_per_day).c_str());
  std::printf("  edge compute:  %s J/request (%s)\n", J(in.edge.energy_j).c_str(), in.edge.source.c_str());
  std::printf("  cloud compute: %s J/request before PUE (%s)\n", J(in.server.energy_j).c_str(),
              in.server.source.c_str());
  std::printf("  energy basis: edge %s, cloud %s\n", in.edge.basis.c_str(), in.server.basis.c_str());
  std::printf("  payload: up %s B (%s), down %s B (%s)\n", FormatDouble(in.up_bytes).c_str(),
              in.up_bytes_source.c_str(), FormatDouble(in.down_bytes).c_str(), in.down_bytes_source.c_str());

  std::printf("\nEnergy per request (J) and carbon (gCO2e), central coefficients\n");
  std::printf("  %-10s %-16s %12s %12s %12s %12s %12s %12s\n", "option", "cut", "sent B", "allocational",
              "device", "network", "marginal", "gCO2e");
  auto row = [&](const std::string& name, const std::string& cut, double bytes,
                 const analysis::OptionEnergy& a, const analysis::OptionEnergy& m, double g) {
    std::printf("  %-10s %-16s %12s %12s %12s %12s %12s %12s\n", name.c_str(), cut.c_str(),
                bytes < 0 ? "-" : FormatDouble(bytes).c_str(), J(a.energy_j).c_str(), J(a.device_j).c_str(),
                J(a.network_j).c_str(), J(m.energy_j).c_str(), Sci(g).c_str());
  };
  const auto& co = r.carbon.options;
  row("edge", "-", -1, r.allocational.edge, r.marginal.edge, co[0].gco2e_per_request);
  row("cloud", "input", in.up_bytes, r.allocational.cloud, r.marginal.cloud, co[1].gco2e_per_request);
  for (size_t i = 0; i < r.allocational.split.size(); ++i) {
    const auto& s = r.allocational.split[i];
    row("split:" + std::to_string(s.index), s.layer, s.activation_bytes, s.energy, r.marginal.split[i].energy,
        co[2 + i].gco2e_per_request);
  }
  std::printf("  best: %s (allocational), %s (marginal)%s\n", r.allocational.best.c_str(),
              r.marginal.best.c_str(), r.views_differ ? "  <- the views disagree" : "");
  if (!r.allocational.split.empty())
    std::printf(
        "  (split:K: the device runs the model up to the cut, sends the activation at %s B/element, "
        "the server runs the rest)\n",
        FormatDouble(in.activation_bytes_per_element).c_str());

  std::printf("\nCarbon per year at %s requests/day: edge %s g, cloud %s g, best (%s) %s g\n",
              FormatDouble(in.requests_per_day).c_str(), Sci(co[0].gco2e_per_year).c_str(),
              Sci(co[1].gco2e_per_year).c_str(), r.allocational.best.c_str(),
              Sci([&] {
                for (const auto& o : co)
                  if (o.option == r.allocational.best) return o.gco2e_per_year;
                return 0.0;
              }())
                  .c_str());
  std::printf("  edge %s g/kWh (%s); cloud %s g/kWh (%s)\n",
              FormatDouble(in.edge_intensity_g_per_kwh).c_str(), in.edge_intensity_source.c_str(),
              FormatDouble(in.cloud_intensity_g_per_kwh).c_str(), in.cloud_intensity_source.c_str());
  std::printf("  (device side at the edge intensity; network and data centre at the cloud intensity)\n");

  const auto& s = r.sensitivity;
  std::printf("\nSensitivity: each coefficient at its low and high value, the others central\n");
  std::printf("  %-31s %-6s %10s %10s %10s  %-9s %-9s %-9s %s\n", "coefficient", "unit", "low", "central",
              "high", "best@low", "best", "best@high", "decision changes at");
  for (const auto& x : s.rows) {
    std::string at;
    if (x.flip_below) at += "<= " + Sci(*x.flip_below);
    if (x.flip_above) at += (at.empty() ? "" : ", ") + std::string(">= ") + Sci(*x.flip_above);
    if (at.empty()) at = "never";
    std::printf("  %-31s %-6s %10s %10s %10s  %-9s %-9s %-9s %s%s\n",
                (x.coefficient + (x.view == "marginal" ? " (m)" : "")).c_str(), x.unit.c_str(),
                Sci(x.value.low).c_str(), Sci(x.value.central).c_str(), Sci(x.value.high).c_str(),
                x.best_at_low.c_str(), x.best_at_central.c_str(), x.best_at_high.c_str(), at.c_str(),
                x.flips ? "  <- flips within its range" : "");
  }
  std::printf("  (m): judged in the marginal view. The decision %s across every coefficient's range.\n",
              s.holds ? "holds" : "does NOT hold");
  std::printf(
      "  break-even up payload: %s (allocational), %s (marginal)\n",
      s.break_even_up_bytes ? ("cloud cheaper below " + Sci(*s.break_even_up_bytes) + " B").c_str() : "none",
      s.break_even_up_bytes_marginal
          ? ("cloud cheaper below " + Sci(*s.break_even_up_bytes_marginal) + " B").c_str()
          : "none");
  std::printf("  break-even device energy: edge beats every remote option below %s J/request\n",
              J(s.break_even_edge_j).c_str());
  if (!s.note.empty()) std::printf("  note: %s\n", s.note.c_str());

  std::printf("\nAssumptions (link %s; every coefficient low / central / high)\n", in.link.name.c_str());
  for (int i = 0; i < analysis::kLinkKeyCount; ++i) {
    const auto& c = in.link.coef[i];
    std::printf("  %-27s %s / %s / %s: %s\n", analysis::kLinkKeys[i], Sci(c.value.low).c_str(),
                Sci(c.value.central).c_str(), Sci(c.value.high).c_str(), c.source.c_str());
  }
  std::printf("  %-27s %s / %s / %s: %s\n", "pue", Sci(in.pue.value.low).c_str(),
              Sci(in.pue.value.central).c_str(), Sci(in.pue.value.high).c_str(), in.pue.source.c_str());
  for (const auto& n : r.notes) std::printf("  note: %s\n", n.c_str());
}

}  // namespace

CommandFn AddPlace(CLI::App* root) {
  auto c = std::make_shared<Place>();
  CLI::App* p =
      AddCommand(root, "place",
                 "edge or cloud: the energy per request of computing on the device, in a data centre, or "
                 "split between them, with both network views, sensitivity and carbon (docs/placement.md)");
  AddString(p, "--model", &c->model, "NAME", "the model (a zoo name, e.g. mobilenetv2)");
  AddString(p, "--link", &c->link, "LINK",
            "the device's link: ethernet, wifi, lte, 5g (or one a --profile adds)");
  AddString(p, "--edge-db", &c->edge_db, "FILE", "the device's study database: its infer runs of --model");
  AddNumber(p, "--edge-energy-j", &c->edge_energy_j, Range::AtLeast(0), "J",
            "the device's compute energy per request instead of --edge-db");
  AddString(p, "--cloud-db", &c->cloud_db, "FILE", "the server's study database: its infer runs of --model");
  AddNumber(p, "--cloud-energy-j", &c->cloud_energy_j, Range::AtLeast(0), "J",
            "the server's compute energy per request (before PUE) instead of --cloud-db");
  AddChoice(
      p, "--energy", &c->energy, EnergyBasisChoices(),
      "energy per sample from energy_above_idle_j or energy_j; auto (default): above idle unless an idle "
      "baseline of either database was measured busy (or a run has none), then total for both");
  AddNumber(p, "--requests-per-day", &c->requests_per_day, Range::AtLeast(0), "N",
            "requests per day: shares the radio tail and scales carbon to a year (default 10000)");
  AddNumber(p, "--input-bytes-per-element", &c->input_bytes_per_element, Range::Above(0), "B",
            "bytes per input element sent (default 1: uint8 pixels)");
  AddNumber(p, "--activation-bytes-per-element", &c->activation_bytes_per_element, Range::Above(0), "B",
            "bytes per activation element sent at a split (default 4: fp32; 1 for int8)");
  AddNumber(p, "--compression", &c->compression, Range::Above(0), "X",
            "the input is sent compressed by this factor (default 1)");
  AddNumber(p, "--up-bytes", &c->up_bytes, Range::AtLeast(0), "N",
            "bytes sent per request (overrides the input size)");
  AddNumber(p, "--down-bytes", &c->down_bytes, Range::AtLeast(0), "N",
            "bytes received per request (default classes x 4)");
  AddString(p, "--input", &c->input, "CxHxW", "the model's input shape (default: its native one)");
  AddCount(p, "--classes", &c->classes, 1, "N", "the model's classes (default: its native count)");
  AddNumber(p, "--edge-intensity", &c->edge_intensity, Range::AtLeast(0), "G", "device-side grid, gCO2e/kWh");
  AddString(p, "--edge-region", &c->edge_region, "CODE",
            "device-side grid from the built-in table (e.g. DE, FR)");
  AddNumber(p, "--cloud-intensity", &c->cloud_intensity, Range::AtLeast(0), "G",
            "data-centre grid, gCO2e/kWh");
  AddString(p, "--cloud-region", &c->cloud_region, "CODE", "data-centre grid from the built-in table");
  AddString(p, "--profile", &c->profile, "FILE",
            "TOML coefficients: [link.NAME] and [cloud] tables overriding or adding to the built-in ones");
  AddFlag(p, "--no-split", &c->no_split, "leave out split points (does not load the workload engine)");
  AddFlag(p, "--json", &c->json, "print one JSON object");
  return [c](const Invocation&) { return c->Run(); };
}

namespace {

// One side's rows: from its database, or none when its energy is given.
Result<std::vector<RunRow>> LoadSide(Env* env, const std::string& flag_db, const std::string& db,
                                     const std::string& flag_j, const std::optional<double>& j) {
  if (db.empty() == !j.has_value())
    return Status::InvalidArgument("give either " + flag_db + " FILE or " + flag_j + " J (exactly one)");
  if (j) return std::vector<RunRow>{};
  auto store = Store::Open(env, db, OpenMode::kReadOnly);
  if (!store.ok()) return store.status().WithContext(flag_db + " " + db);
  if (!(*store)->notice().empty())
    std::fprintf(stderr, "wattlab place: note: %s\n", (*store)->notice().c_str());
  auto rows = (*store)->ReadRows("");
  if (!rows.ok()) return rows.status().WithContext(flag_db + " " + db);
  return rows;
}

Result<analysis::RequestEnergy> ComputeEnergy(const std::vector<RunRow>& rows, const std::string& flag_db,
                                              const std::string& db, const std::string& flag_j,
                                              const std::optional<double>& j, const std::string& model,
                                              analysis::EnergyBasis basis) {
  if (j) {
    analysis::RequestEnergy e;
    e.energy_j = *j;
    e.basis = "given";
    e.source = flag_j;
    return e;
  }
  return analysis::EnergyPerRequestFromRows(rows, model, basis, flag_db + " " + db);
}

}  // namespace

int Place::Run() {
  const std::string cmd = "place";
  if (model.empty()) return ReportError(cmd, Status::InvalidArgument("--model NAME is required"));
  if (link.empty())
    return ReportError(cmd, Status::InvalidArgument("--link LINK is required (ethernet, wifi, lte, 5g)"));
  std::unique_ptr<Env> env = OpenDefaultEnv();
  // One basis for both sides, chosen once over both databases
  // (core/energy_basis.h), so edge and cloud are compared like for like.
  auto edge_rows = LoadSide(env.get(), "--edge-db", edge_db, "--edge-energy-j", edge_energy_j);
  if (!edge_rows.ok()) return ReportError(cmd, edge_rows.status());
  auto cloud_rows = LoadSide(env.get(), "--cloud-db", cloud_db, "--cloud-energy-j", cloud_energy_j);
  if (!cloud_rows.ok()) return ReportError(cmd, cloud_rows.status());
  std::vector<RunRow> all = *edge_rows;
  all.insert(all.end(), cloud_rows->begin(), cloud_rows->end());
  const EnergyBasisChoice choice = ChooseEnergyBasis(
      ParseEnergyBasisRequest(energy.empty() ? "auto" : energy).value_or(EnergyBasisRequest::kAuto), all);
  const analysis::EnergyBasis basis = choice.basis;

  analysis::PlacementProfile prof = analysis::BuiltinPlacementProfile();
  if (!profile.empty()) {
    auto text = env->ReadFile(profile);
    if (!text.ok()) return ReportError(cmd, Status::InvalidArgument("cannot read --profile " + profile));
    auto parsed = analysis::ParsePlacementProfile(*text, profile, std::move(prof));
    if (!parsed.ok()) return ReportError(cmd, parsed.status());
    prof = std::move(*parsed);
  }
  analysis::PlacementInput in;
  in.model = model;
  auto l = analysis::FindLink(prof, link);
  if (!l.ok()) return ReportError(cmd, l.status());
  in.link = *l;
  in.pue = prof.pue;
  in.requests_per_day = requests_per_day;
  in.activation_bytes_per_element = activation_bytes_per_element;

  auto edge = ComputeEnergy(*edge_rows, "--edge-db", edge_db, "--edge-energy-j", edge_energy_j, model, basis);
  if (!edge.ok()) return ReportError(cmd, edge.status());
  in.edge = *edge;
  auto server =
      ComputeEnergy(*cloud_rows, "--cloud-db", cloud_db, "--cloud-energy-j", cloud_energy_j, model, basis);
  if (!server.ok()) return ReportError(cmd, server.status());
  in.server = *server;

  auto edge_c = Intensity("edge", edge_intensity, edge_region);
  if (!edge_c.ok()) return ReportError(cmd, edge_c.status());
  auto cloud_c = Intensity("cloud", cloud_intensity, cloud_region);
  if (!cloud_c.ok()) return ReportError(cmd, cloud_c.status());
  in.edge_intensity_g_per_kwh = edge_c->intensity_g_per_kwh;
  in.edge_intensity_source = edge_c->intensity_source;
  in.cloud_intensity_g_per_kwh = cloud_c->intensity_g_per_kwh;
  in.cloud_intensity_source = cloud_c->intensity_source;

  // The model's input and classes: --input/--classes, else the engine's
  // description; the engine also gives the split points. It is loaded only
  // when something needs it.
  std::optional<Shape> shape;
  if (!input.empty()) {
    auto s = ParseShape(input);
    if (!s.ok()) return ReportError(cmd, s.status());
    shape = *s;
  }
  // The payload needs the model's input shape and classes: --input/--classes,
  // else the catalog's native form (torch-free). The workload engine is
  // loaded only for the split points.
  Shape facts_input = shape.value_or(Shape{});
  int64_t facts_classes = classes.value_or(10);
  if ((!up_bytes && !shape) || (!down_bytes && !classes)) {
    auto info = catalog::LookupModel(model);
    if (!info.ok())
      return ReportError(cmd,
                         info.status().WithContext(
                             "the payload needs the model's input shape and classes (or give --input and "
                             "--classes, or --up-bytes and --down-bytes)"));
    if (!shape) facts_input = info->native_input;
    if (!classes) facts_classes = info->native_classes;
  }
  WorkloadEngine* engine = nullptr;
  Status engine_status = Status::Ok();
  if (!no_split) {
    auto e = LoadWorkloadEngine(env.get());
    if (e.ok())
      engine = *e;
    else
      engine_status = e.status();
  }
  const std::string shape_how = shape ? "--input" : "the model's native input";
  if (up_bytes) {
    in.up_bytes = *up_bytes;
    in.up_bytes_source = "--up-bytes";
  } else {
    const double elements = static_cast<double>(facts_input.c * facts_input.h * facts_input.w);
    in.up_bytes = elements * input_bytes_per_element / compression;
    in.up_bytes_source = FormatDouble(elements) + " input elements (" + facts_input.ToString() + ", " +
                         shape_how + ") x " + FormatDouble(input_bytes_per_element) + " B / compression " +
                         FormatDouble(compression);
  }
  if (down_bytes) {
    in.down_bytes = *down_bytes;
    in.down_bytes_source = "--down-bytes";
  } else {
    in.down_bytes = static_cast<double>(facts_classes) * 4;
    in.down_bytes_source = std::to_string(facts_classes) + " classes x 4 B";
  }
  if (no_split) {
    in.splits_note = "split points left out (--no-split)";
  } else if (!engine) {
    // The first line of the plugin's message says why; the rest lists paths tried.
    const std::string why = engine_status.message().substr(0, engine_status.message().find('\n'));
    in.splits_note =
        "no split points: the workload engine that knows the model's structure is not available (" + why +
        ")";
  } else {
    auto sp = engine->SplitPoints(model, shape, classes);
    if (sp.ok()) {
      in.splits = *sp;
      if (in.splits.empty()) in.splits_note = model + " has no top-level blocks to cut between";
    } else {
      in.splits_note = "no split points: " + sp.status().message();
    }
  }

  auto r = analysis::Place(in);
  if (!r.ok()) return ReportError(cmd, r.status());
  if (json) {
    auto j = analysis::ToJson(*r);
    if (!all.empty()) {
      j["energy_basis"] = EnergyBasisName(choice.basis);
      j["energy_basis_reason"] = choice.reason;
    }
    std::cout << j.dump(2) << "\n";
  } else {
    PrintText(*r);
    if (!all.empty())
      std::printf("  energy basis: %s for both sides (%s)\n", EnergyBasisName(choice.basis),
                  choice.reason.c_str());
  }
  return kExitOk;
}

}  // namespace wattlab::cli
