// Yearly average carbon intensity of electricity generation, for
// `wattlab analyze --region CODE`. Codes are ISO 3166-1 alpha-2, plus WORLD.
//
// Source: Ember, Yearly Electricity Data (lifecycle emissions, all gases as
// CO2e over 100 years), year 2023, as tabulated by Our World in Data
// ("Carbon intensity of electricity generation", ourworldindata.org/grapher/
// carbon-intensity-electricity) and, for WORLD, NO, PL and SE, by Statista's
// charts of the same Ember data. Only figures read from those tables are
// listed; a country that is missing is missing on purpose: pass
// --intensity G_PER_KWH for it rather than trust a guess. These are
// generation (not consumption) averages; imports and the hour of day change
// the real figure.
#include "analysis/analysis.h"

namespace wattlab::analysis {

namespace {
constexpr const char* kOwid = "Ember 2023 via Our World in Data (carbon-intensity-electricity)";
constexpr const char* kStatista = "Ember 2023 via Statista (electricity generation emission intensity)";
}  // namespace

const std::vector<CarbonRegion>& CarbonRegions() {
  static const std::vector<CarbonRegion> kRegions = {
      {"WORLD", "World", 481, 2023, kStatista}, {"AR", "Argentina", 354, 2023, kOwid},
      {"AT", "Austria", 111, 2023, kOwid},      {"AU", "Australia", 549, 2023, kOwid},
      {"BD", "Bangladesh", 691, 2023, kOwid},   {"BE", "Belgium", 138, 2023, kOwid},
      {"BG", "Bulgaria", 335, 2023, kOwid},     {"BR", "Brazil", 98, 2023, kOwid},
      {"CA", "Canada", 170, 2023, kOwid},       {"CL", "Chile", 291, 2023, kOwid},
      {"CN", "China", 582, 2023, kOwid},        {"CO", "Colombia", 260, 2023, kOwid},
      {"CR", "Costa Rica", 53, 2023, kOwid},    {"CY", "Cyprus", 534, 2023, kOwid},
      {"CZ", "Czechia", 450, 2023, kOwid},      {"DE", "Germany", 381, 2023, kOwid},
      {"DK", "Denmark", 152, 2023, kOwid},      {"EE", "Estonia", 417, 2023, kOwid},
      {"EG", "Egypt", 570, 2023, kOwid},        {"FI", "Finland", 79, 2023, kOwid},
      {"FR", "France", 56, 2023, kOwid},        {"GR", "Greece", 337, 2023, kOwid},
      {"HR", "Croatia", 205, 2023, kOwid},      {"HU", "Hungary", 204, 2023, kOwid},
      {"IE", "Ireland", 291, 2023, kOwid},      {"IN", "India", 713, 2023, kOwid},
      {"IR", "Iran", 655, 2023, kOwid},         {"NO", "Norway", 30, 2023, kStatista},
      {"PL", "Poland", 662, 2023, kStatista},   {"SE", "Sweden", 40.7, 2023, kStatista},
  };
  return kRegions;
}

}  // namespace wattlab::analysis
