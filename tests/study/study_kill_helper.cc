// Test-only: runs a study with the real runner and store, a fake engine whose
// steps take real time, and a fake meter. Usage: study_kill_helper DB SPEC [--resume]
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "fakes.h"
#include "platform/real_env.h"
#include "store/store.h"
#include "study/runner.h"

int main(int argc, char** argv) {
  using namespace wattlab;
  if (argc < 3) {
    std::fprintf(stderr, "usage: study_kill_helper DB SPEC [--resume]\n");
    return 2;
  }
  std::ifstream in(argv[2]);
  std::stringstream text;
  text << in.rdbuf();
  auto spec = ParseStudySpec(text.str(), argv[2]);
  if (!spec.ok()) {
    std::fprintf(stderr, "%s\n", spec.status().ToString().c_str());
    return 2;
  }
  // Real time, but short pauses: the test needs a study of ~2 s to kill.
  spec->cooldown_s = 0.02;
  spec->idle_s = 0.05;
  auto env = NewRealEnv();
  testing::FakeMeter meter(env.get());
  testing::FakeEngine engine(env.get(), 0.0005);  // lenet batch 32 step: 16 ms
  auto store = Store::Open(env.get(), argv[1], OpenMode::kCreate);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  RunnerOptions opt;
  opt.resume = argc > 3 && std::string(argv[3]) == "--resume";
  opt.log = &std::cout;
  StudyRunner runner(*spec, &engine, &meter, store->get(), env.get(), opt);
  auto out = runner.Run({});
  if (!out.ok()) {
    std::fprintf(stderr, "%s\n", out.status().ToString().c_str());
    return 1;
  }
  return out->finished ? 0 : 1;
}
