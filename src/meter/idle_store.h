// The idle-power state file: `wattlab idle` writes one entry per (host,
// sources); `wattlab measure --subtract-idle` reads the matching one back.
//
// Location: $XDG_STATE_HOME/wattlab/idle.json, else
// $HOME/.local/state/wattlab/idle.json. Format (JSON):
//   {"version": 1, "entries": [{"host", "sources": [..], "idle_power_w",
//    "domains": [{"name", "power_w"}], "measured_at_s" (Unix time),
//    "duration_s", "estimated", "busy", "cpu_util"}]} (busy, cpu_util: optional)
// Every file access goes through the Env. Writes replace the whole file
// atomically (Env::WriteFileAtomically: temp file, sync, rename), so a crash,
// a full disk or a refused rename never leaves half a file: the previous one
// stays whole.
//
// Thread-safety: free functions; concurrent writers race last-wins.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/env.h"
#include "wattlab/status.h"

namespace wattlab {

struct IdleEntry {
  std::string host;
  std::vector<std::string> sources;                       // chosen source names, in meter order
  double idle_power_w = 0;                                // whole machine, in_total domains
  std::vector<std::pair<std::string, double>> domains_w;  // per-domain idle power
  double measured_at_s = 0;                               // Unix seconds
  double duration_s = 0;
  bool estimated = false;
  bool busy = false;               // measured while the machine was busy (meter/busy.h)
  std::optional<double> cpu_util;  // machine CPU utilisation during it, 0..1
};

// The state file path from XDG_STATE_HOME / HOME (read through env).
// FailedPrecondition when neither is set.
Result<std::string> IdleStatePath(Env* env);
// This machine's name (/proc/sys/kernel/hostname through env, else
// env->HostName()), "unknown" when neither answers.
std::string HostName(Env* env);

// All entries; an absent file is an empty list. Corruption (with the path
// and what to do) for a file that is not ours.
Result<std::vector<IdleEntry>> LoadIdleEntries(Env* env, const std::string& path);
// The entry for host and exactly these sources, if any.
Result<std::optional<IdleEntry>> FindIdleEntry(Env* env, const std::string& path, const std::string& host,
                                               const std::vector<std::string>& sources);
// Adds or replaces the entry with the same host and sources; creates the
// directory if needed. Errors say "cannot save the idle baseline to PATH: "
// and then what the Env reported (no space left, rename refused, ...).
Status SaveIdleEntry(Env* env, const std::string& path, const IdleEntry& entry);

}  // namespace wattlab
