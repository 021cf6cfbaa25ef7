#include "meter/command_run.h"

#include "core/env.h"
#include "platform/process.h"

namespace wattlab {

std::vector<std::string> LastLines(const std::string& text, size_t n) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  if (lines.size() > n) lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(n));
  return lines;
}

Result<CommandRunResult> RunCommandWithControl(Env* env, Meter* meter, const std::vector<std::string>& argv,
                                               const CommandRunOptions& options) {
  SpawnOptions spawn;
  spawn.control_channel = true;
  spawn.capture_stderr = options.capture_stderr;
  spawn.env = options.env;
  ControlSession session(meter);
  const auto t0 = env->NowMonotonic();
  CommandRunResult result;
  auto spawned = ChildProcess::Spawn(argv, spawn);
  if (!spawned.ok()) {
    result.spawn_error = spawned.status();
    result.exit_code = ExitCodeForSpawnFailure(spawned.status());
    return result;
  }
  ChildProcess& child = **spawned;

  // Only the tail of stderr is kept; bounded so a chatty program costs
  // little memory.
  std::string err_text;
  const size_t kErrKeep = 64 * 1024;
  auto consume = [&](ChildOutput& out) {
    for (const auto& line : out.control_lines) {
      std::string w = session.HandleLine(line);
      if (!w.empty() && options.on_warning) options.on_warning(w);
    }
    if (!out.stderr_text.empty()) {
      err_text += out.stderr_text;
      if (err_text.size() > 2 * kErrKeep) err_text.erase(0, err_text.size() - kErrKeep);
    }
  };

  std::optional<std::chrono::nanoseconds> term_sent_at;
  std::optional<int> code;
  for (;;) {
    ChildOutput out;
    Status st = child.ReadOutput(std::chrono::milliseconds(50), &out);
    consume(out);
    if (!st.ok()) {
      // The channels failed; the program runs on and is waited for below.
      if (options.on_warning) options.on_warning("reading the control channel: " + st.message());
      auto waited = child.Wait();
      if (!waited.ok()) return waited.status();
      code = *waited;
      break;
    }
    auto done = child.TryWait();
    if (!done.ok()) return done.status();
    if (done->has_value()) {
      code = **done;
      break;
    }
    const auto elapsed = env->NowMonotonic() - t0;
    if (!term_sent_at) {
      if (options.timeout && elapsed > *options.timeout) result.timed_out = true;
      if (!result.timed_out && options.stop && options.stop()) result.stopped = true;
      if (result.timed_out || result.stopped) {
        (void)child.Kill(false);
        term_sent_at = elapsed;
      }
    } else if (elapsed - *term_sent_at > options.kill_grace) {
      (void)child.Kill(true);
    }
  }
  {
    ChildOutput out;
    (void)child.ReadOutput(std::chrono::milliseconds(0), &out, /*final=*/true);
    consume(out);
  }
  result.duration_s = std::chrono::duration<double>(env->NowMonotonic() - t0).count();
  for (const auto& w : session.Finish())
    if (options.on_warning) options.on_warning(w);
  result.exit_code = *code;
  result.windows = session.windows();
  result.warnings = session.warnings();
  result.meta = session.meta();
  if (options.capture_stderr) result.stderr_tail = LastLines(err_text, options.stderr_tail_lines);
  return result;
}

}  // namespace wattlab
