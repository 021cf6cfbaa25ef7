// The placement model (src/analysis/placement.h): each term by hand with
// fixture coefficients, split points on a hand-made model, sensitivity,
// carbon, the energy taken from study rows, and the TOML profile reader.
#include "analysis/placement.h"

#include <gtest/gtest.h>

namespace wattlab::analysis {
namespace {

// Fixture link: every coefficient a round number, so each term can be
// computed by hand.
LinkProfile FixtureLink() {
  LinkProfile l;
  l.name = "fixture";
  const double central[kLinkKeyCount] = {1e-7, 5e-8, 10, 10, 0.1, 1e-6};
  for (int i = 0; i < kLinkKeyCount; ++i)
    l.coef[i] = {{central[i] / 2, central[i], central[i] * 2}, "fixture"};
  return l;
}

PlacementInput FixtureInput() {
  PlacementInput in;
  in.model = "hand";
  in.link = FixtureLink();
  in.pue = {{1.1, 1.5, 1.6}, "fixture"};
  in.edge.energy_j = 0.5;
  in.server.energy_j = 0.02;
  in.up_bytes = 1000;
  in.down_bytes = 40;
  in.requests_per_day = 864000;  // 10 per second: the tail is shared by 10 x 10 s = 100 requests
  return in;
}

TEST(Placement, EachTermByHand) {
  EXPECT_DOUBLE_EQ(RadioJ(1000, 40, 1e-7, 5e-8), 8000 * 1e-7 + 320 * 5e-8);
  EXPECT_DOUBLE_EQ(TailJ(10, 10, 0.1), 10.0);  // max(1, 0.1 x 10) = 1
  EXPECT_DOUBLE_EQ(TailJ(10, 10, 10), 0.1);    // 100 requests share one tail
  EXPECT_DOUBLE_EQ(TailJ(10, 0, 10), 10.0);    // no tail time: every request pays it
  // 1 kWh/GB = 3.6 mJ/byte.
  EXPECT_DOUBLE_EQ(NetworkAllocationalJ(1e9, 1.0), 3.6e6);
  EXPECT_DOUBLE_EQ(NetworkAllocationalJ(1040, 0.1), 1040 * 3.6e-4);
  EXPECT_DOUBLE_EQ(NetworkMarginalJ(1040, 1e-6), 1040 * 8e-6);
}

TEST(Placement, CloudFormulaAndBothViews) {
  PlacementInput in = FixtureInput();
  const double radio = 8000 * 1e-7 + 320 * 5e-8;  // 8.16e-4
  const double tail = 0.1;
  const double server = 1.5 * 0.02;
  auto a = EvaluatePlacement(in, NetworkView::kAllocational);
  EXPECT_DOUBLE_EQ(a.edge.energy_j, 0.5);
  EXPECT_NEAR(a.cloud.energy_j, radio + tail + 1040 * 3.6e-4 + server, 1e-12);  // 0.505216
  EXPECT_NEAR(a.cloud.device_j, radio + tail, 1e-12);
  EXPECT_NEAR(a.cloud.server_j, server, 1e-12);
  EXPECT_EQ(a.best, "edge");
  auto m = EvaluatePlacement(in, NetworkView::kMarginal);
  EXPECT_NEAR(m.cloud.energy_j, radio + tail + 1040 * 8e-6 + server, 1e-12);  // 0.139136
  EXPECT_EQ(m.best, "cloud");

  auto r = Place(in);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->views_differ);
  auto j = ToJson(*r);
  std::vector<std::string> keys;
  for (auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"assumptions", "best", "carbon", "cloud_j", "edge_j", "marginal",
                                            "sensitivity", "split"}));
  EXPECT_EQ(j["best"], "edge");
  EXPECT_EQ(j["marginal"]["best"], "cloud");
  EXPECT_EQ(j["marginal"]["differs"], true);
  EXPECT_EQ(j["assumptions"]["coefficients"].size(), 7u);  // six link keys and pue
}

TEST(Placement, SplitPointsOnAHandMadeModel) {
  // A model of three blocks: the stem and block0 do a quarter of the MACs and
  // leave 100 elements; block1 leaves 5000 (bigger than the input).
  PlacementInput in = FixtureInput();
  in.splits = {{"after block0", 100, 0.25}, {"after block1", 5000, 0.5}};
  auto v = EvaluatePlacement(in, NetworkView::kAllocational);
  ASSERT_EQ(v.split.size(), 2u);
  EXPECT_EQ(v.split[0].layer, "after block0");
  EXPECT_DOUBLE_EQ(v.split[0].activation_bytes, 400);  // 100 x 4 B (fp32)
  const double s0 = 0.25 * 0.5 + (3200 * 1e-7 + 320 * 5e-8) + 0.1 + 440 * 3.6e-4 + 1.5 * 0.75 * 0.02;
  EXPECT_NEAR(v.split[0].energy.energy_j, s0, 1e-12);  // 0.406236
  const double s1 = 0.5 * 0.5 + (160000 * 1e-7 + 320 * 5e-8) + 0.1 + 20040 * 3.6e-4 + 1.5 * 0.5 * 0.02;
  EXPECT_NEAR(v.split[1].energy.energy_j, s1, 1e-12);
  EXPECT_EQ(v.best, "split:0");
  // int8 activations: a quarter of the bytes.
  in.activation_bytes_per_element = 1;
  EXPECT_DOUBLE_EQ(EvaluatePlacement(in, NetworkView::kAllocational).split[0].activation_bytes, 100);

  // Edge beats every remote option below min(cloud, R_k / (1 - share_k)).
  in.activation_bytes_per_element = 4;
  auto s = AnalyseSensitivity(in);
  EXPECT_NEAR(s.break_even_edge_j, (s0 - 0.125) / 0.75, 1e-12);  // 0.374981 < cloud 0.505216
}

TEST(Placement, BreakEvenPayload) {
  PlacementInput in = FixtureInput();
  auto s = AnalyseSensitivity(in);
  // cloud(u) = 320 x 5e-8 + 0.1 + 40 x 3.6e-4 + 0.03 + u (8e-7 + 3.6e-4)
  const double at0 = 320 * 5e-8 + 0.1 + 40 * 3.6e-4 + 0.03;
  ASSERT_TRUE(s.break_even_up_bytes.has_value());
  EXPECT_NEAR(*s.break_even_up_bytes, (0.5 - at0) / (8e-7 + 3.6e-4), 1e-6);  // about 985.5 B
  ASSERT_TRUE(s.break_even_up_bytes_marginal.has_value());
  const double m0 = 320 * 5e-8 + 0.1 + 40 * 8e-6 + 0.03;
  EXPECT_NEAR(*s.break_even_up_bytes_marginal, (0.5 - m0) / (8e-7 + 8e-6), 1e-6);
  EXPECT_NEAR(s.break_even_edge_j, 0.505216, 1e-9);  // no splits: the cloud's energy

  // A device cheaper than the cloud's fixed costs: no payload makes the cloud win.
  in.edge.energy_j = 0.01;
  s = AnalyseSensitivity(in);
  EXPECT_FALSE(s.break_even_up_bytes.has_value());
  EXPECT_FALSE(s.note.empty());
}

TEST(Placement, SensitivityFindsWhereTheDecisionFlips) {
  PlacementInput in = FixtureInput();
  auto s = AnalyseSensitivity(in);
  ASSERT_EQ(s.rows.size(), 7u);
  const SensitivityRow* pue = nullptr;
  const SensitivityRow* tail_s = nullptr;
  const SensitivityRow* marginal = nullptr;
  for (const auto& r : s.rows) {
    if (r.coefficient == "pue") pue = &r;
    if (r.coefficient == "tail_s") tail_s = &r;
    if (r.coefficient == "network_marginal_j_per_bit") marginal = &r;
  }
  ASSERT_TRUE(pue && tail_s && marginal);
  // Edge 0.5 against cloud 0.475216 + 0.02 x pue: equal at pue 1.2392.
  EXPECT_EQ(pue->best_at_central, "edge");
  EXPECT_EQ(pue->best_at_low, "cloud");  // pue 1.1
  EXPECT_EQ(pue->best_at_high, "edge");
  EXPECT_TRUE(pue->flips);
  ASSERT_TRUE(pue->flip_below.has_value());
  EXPECT_NEAR(*pue->flip_below, (0.5 - 0.475216) / 0.02, 1e-6);
  EXPECT_FALSE(pue->flip_above.has_value());
  EXPECT_FALSE(s.holds);
  // tail_s enters through 1 / max(1, rps x tail_s): cloud = 0.405216 + 10 / (10 tail_s),
  // equal to the edge at tail_s = 1 / 0.094784.
  EXPECT_EQ(tail_s->best_at_central, "edge");
  ASSERT_TRUE(tail_s->flip_above.has_value());
  EXPECT_NEAR(*tail_s->flip_above, 1 / 0.094784, 1e-6);
  EXPECT_TRUE(tail_s->flips);  // high 20 s
  // The marginal coefficient is judged in the marginal view, where the cloud wins.
  EXPECT_EQ(marginal->view, "marginal");
  EXPECT_EQ(marginal->best_at_central, "cloud");
}

TEST(Placement, CarbonAtEachEnd) {
  PlacementInput in = FixtureInput();
  in.edge_intensity_g_per_kwh = 100;
  in.cloud_intensity_g_per_kwh = 400;
  auto r = Place(in);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->carbon.options.size(), 2u);
  EXPECT_EQ(r->carbon.options[0].option, "edge");
  EXPECT_NEAR(r->carbon.options[0].gco2e_per_request, 0.5 / 3.6e6 * 100, 1e-15);
  EXPECT_NEAR(r->carbon.options[0].gco2e_per_year, 0.5 / 3.6e6 * 100 * 864000 * 365, 1e-6);
  const double device = 8.16e-4 + 0.1, rest = 1040 * 3.6e-4 + 0.03;
  EXPECT_NEAR(r->carbon.options[1].gco2e_per_request, (device * 100 + rest * 400) / 3.6e6, 1e-15);
}

TEST(Placement, BadInputIsRefused) {
  PlacementInput in = FixtureInput();
  in.up_bytes = -1;
  auto r = Place(in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(r.status().message().find("up payload"), std::string::npos);
  in = FixtureInput();
  in.link.coef[2].value = {10, 5, 20};
  EXPECT_FALSE(Place(in).ok());
  in = FixtureInput();
  in.splits = {{"x", 10, 1.5}};
  EXPECT_FALSE(Place(in).ok());
  in = FixtureInput();
  in.activation_bytes_per_element = 0;
  EXPECT_FALSE(Place(in).ok());
}

TEST(Placement, BuiltinLinks) {
  const auto& p = BuiltinPlacementProfile();
  for (const char* name : {"ethernet", "wifi", "lte", "5g"}) {
    auto l = FindLink(p, name);
    ASSERT_TRUE(l.ok()) << name;
    for (int i = 0; i < kLinkKeyCount; ++i) {
      const Triple& t = l->coef[i].value;
      EXPECT_LE(t.low, t.central) << name << " " << kLinkKeys[i];
      EXPECT_LE(t.central, t.high) << name << " " << kLinkKeys[i];
      EXPECT_GE(t.low, 0);
      EXPECT_FALSE(l->coef[i].source.empty());
    }
  }
  EXPECT_DOUBLE_EQ(FindLink(p, "lte")->Get("tail_s").value.central, 10);
  auto bad = FindLink(p, "carrier-pigeon");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("known: ethernet, wifi, lte, 5g"), std::string::npos);
}

// ---- energy from study rows ---------------------------------------------------------

RunRow Row(const std::string& model, int64_t batch, int64_t threads, double energy,
           std::optional<double> above) {
  RunRow r;
  r.study = "s";
  r.run_id = batch * 100 + threads;
  r.model = model;
  r.phase = "infer";
  r.window = "full";
  r.batch_size = batch;
  r.threads = threads;
  r.precision = "fp32";
  r.samples = 100;
  r.duration_s = 1;
  r.energy_j = energy;
  r.energy_above_idle_j = above;
  r.source = "rapl-powercap";
  return r;
}

TEST(Placement, EnergyFromRowsBatchOneAboveIdle) {
  std::vector<RunRow> rows = {Row("m", 1, 1, 50, 20), Row("m", 1, 2, 40, 10), Row("m", 8, 1, 30, 5),
                              Row("other", 1, 1, 1, 1)};
  auto e = EnergyPerRequestFromRows(rows, "m", std::nullopt, "edge.db");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->batch_size, 1);
  EXPECT_EQ(e->basis, "above idle");
  EXPECT_DOUBLE_EQ(e->energy_j, 0.1);  // the cheaper of the two batch-1 configurations: 10 J / 100
  EXPECT_NE(e->source.find("batch 1, 2 threads"), std::string::npos);
  // Total when asked.
  e = EnergyPerRequestFromRows(rows, "m", EnergyBasis::kTotal, "edge.db");
  ASSERT_TRUE(e.ok());
  EXPECT_DOUBLE_EQ(e->energy_j, 0.4);
  EXPECT_EQ(e->basis, "total");
}

TEST(Placement, EnergyFromRowsSmallestBatchAndMissingBaseline) {
  std::vector<RunRow> rows = {Row("m", 4, 1, 80, std::nullopt), Row("m", 16, 1, 30, 5)};
  auto e = EnergyPerRequestFromRows(rows, "m", std::nullopt, "edge.db");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->batch_size, 4);
  EXPECT_EQ(e->basis, "total");  // a row without a baseline: the whole window's energy
  EXPECT_DOUBLE_EQ(e->energy_j, 0.8);
  std::string notes;
  for (const auto& n : e->notes) notes += n + "\n";
  EXPECT_NE(notes.find("smallest batch measured (4)"), std::string::npos);
  EXPECT_NE(notes.find("no idle baseline"), std::string::npos);

  // Every window within idle noise: the whole window's energy, said so; but
  // not when above idle was asked for.
  std::vector<RunRow> busy = {Row("m", 1, 1, 50, 0.0), Row("m", 1, 1, 60, -1e-12)};
  auto t = EnergyPerRequestFromRows(busy, "m", std::nullopt, "edge.db");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->basis, "total");
  EXPECT_DOUBLE_EQ(t->energy_j, 0.55);
  EXPECT_NE(t->notes.front().find("nothing above the idle baseline"), std::string::npos);
  EXPECT_FALSE(EnergyPerRequestFromRows(busy, "m", EnergyBasis::kAboveIdle, "edge.db").ok());

  auto none = EnergyPerRequestFromRows(rows, "resnet18", std::nullopt, "--edge-db edge.db");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("infer runs there: m"), std::string::npos);
}

// ---- the TOML profile ------------------------------------------------------------------

TEST(PlacementProfile, OverridesAndAdds) {
  const std::string text = R"(
[link.lte]
tail_j = 7.5

[link.satellite]
radio_up_j_per_bit = [1e-7, 2e-7, 4e-7]
radio_down_j_per_bit = 1e-7
tail_j = 0
tail_s = 0
network_kwh_per_gb = 0.5
network_marginal_j_per_bit = 1

[cloud]
pue = [1.1, 1.2, 1.3]
)";
  auto p = ParsePlacementProfile(text, "links.toml", BuiltinPlacementProfile());
  ASSERT_TRUE(p.ok()) << p.status().message();
  auto lte = FindLink(*p, "lte");
  ASSERT_TRUE(lte.ok());
  EXPECT_DOUBLE_EQ(lte->Get("tail_j").value.low, 7.5);
  EXPECT_DOUBLE_EQ(lte->Get("tail_j").value.high, 7.5);
  EXPECT_EQ(lte->Get("tail_j").source, "profile links.toml");
  EXPECT_DOUBLE_EQ(lte->Get("tail_s").value.central, 10);  // kept from the built-in table
  auto sat = FindLink(*p, "satellite");
  ASSERT_TRUE(sat.ok());
  EXPECT_DOUBLE_EQ(sat->Get("radio_up_j_per_bit").value.central, 2e-7);
  EXPECT_DOUBLE_EQ(sat->Get("network_marginal_j_per_bit").value.central, 1.0);  // an integer is a number
  EXPECT_DOUBLE_EQ(p->pue.value.central, 1.2);
}

void ExpectBad(const std::string& text, const std::string& want) {
  auto p = ParsePlacementProfile(text, "bad.toml", BuiltinPlacementProfile());
  ASSERT_FALSE(p.ok()) << text;
  EXPECT_EQ(p.status().kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(p.status().message().find("bad.toml"), std::string::npos) << p.status().message();
  EXPECT_NE(p.status().message().find(want), std::string::npos) << p.status().message();
}

TEST(PlacementProfile, BadProfilesNameFileAndKey) {
  ExpectBad("[link.lte]\ntail_joules = 3\n", "bad.toml:2: key 'link.lte.tail_joules': unknown key");
  ExpectBad("[link.lte]\ntail_j = [15, 10, 5]\n", "key 'link.lte.tail_j': [low, central, high] out of order");
  ExpectBad("[link.lte]\ntail_j = -1\n", "key 'link.lte.tail_j': must be >= 0");
  ExpectBad("[link.lte]\ntail_j = [1, 2]\n", "exactly [low, central, high]");
  ExpectBad("[link.lte]\ntail_j = \"ten\"\n", "must be a number");
  ExpectBad("[link.lte]\ntail_j = nan\n", "must be finite");
  ExpectBad("[link.new]\ntail_j = 1\n",
            "key 'link.new': a new link must give every key; missing: radio_up_j_per_bit");
  ExpectBad("[links.lte]\ntail_j = 1\n", "key 'links': unknown table");
  ExpectBad("[cloud]\npue = 0.9\n", "key 'cloud.pue': must be >= 1");
  ExpectBad("[cloud]\npeu = 1.2\n", "key 'cloud.peu': unknown key");
  ExpectBad("[link.lte\n", "not valid TOML");
}

}  // namespace
}  // namespace wattlab::analysis
