/* A fake libnvidia-ml for tests: the real NVML symbol names and return
 * codes, behaviour steered by environment variables read at each call, so a
 * test can change them between calls with setenv():
 *
 *   FAKE_NVML_INIT_RC=4            nvmlInit_v2 returns this code (4 = NO_PERMISSION)
 *   FAKE_NVML_GPUS=2               number of GPUs (default 1; 0 allowed)
 *   FAKE_NVML_ENERGY_MJ_FILE=path  text file with the energy counters in mJ,
 *                                  one number per GPU (the last repeats);
 *                                  re-read on every call
 *   FAKE_NVML_ENERGY_MJ=123        counter when no file is given (default 1000000)
 *   FAKE_NVML_NO_ENERGY=1          total-energy call returns NOT_SUPPORTED
 *   FAKE_NVML_NO_ENERGY_GPU=1      ... only for this GPU index (a mixed machine)
 *   FAKE_NVML_POWER_MW=150000      nvmlDeviceGetPowerUsage value (default 150000)
 *   FAKE_NVML_NO_POWER=1           power call returns NOT_SUPPORTED
 *
 * Power limits (what wattlab's caps read and set), all in mW:
 *   FAKE_NVML_MIN_MW / FAKE_NVML_MAX_MW   limit constraints (default 100000 / 350000)
 *   FAKE_NVML_DEFAULT_MW           nvmlDeviceGetPowerManagementDefaultLimit (default 350000)
 *   FAKE_NVML_LIMITS_FILE=path     the current limits, one number per GPU, read
 *                                  on every get and rewritten on every set, so
 *                                  a limit set by one process is seen by the
 *                                  next (the driver's state); a missing file
 *                                  means every GPU at 320000. Without the
 *                                  variable the limits live in this process.
 *   FAKE_NVML_SET_RC=4             nvmlDeviceSetPowerManagementLimit returns this code
 *   FAKE_NVML_SET_FAIL_GPU=1       ... only this GPU fails (NVML_ERROR_UNKNOWN)
 * The enforced limit is min(current limit, 300000). A set outside the
 * constraints returns INVALID_ARGUMENT, as the driver does.
 *
 * fake_nvml_live_inits() returns successful inits minus shutdowns, so a test
 * can check that a probe which gives up shuts NVML down again;
 * fake_nvml_set_calls() counts successful limit sets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st* nvmlDevice_t;
typedef struct {
  unsigned int gpu;
  unsigned int memory;
} nvmlUtilization_t;

#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NO_PERMISSION 4
#define NVML_ERROR_INSUFFICIENT_SIZE 7

/* Device handles are addresses inside this array; index = handle - base. */
static char g_devices[16];
static int g_live_inits = 0;
static int g_set_calls = 0;
static unsigned int g_limits_mw[16];
static int g_limits_ready = 0;

static long EnvLong(const char* name, long fallback) {
  const char* v = getenv(name);
  if (!v || !*v) return fallback;
  return strtol(v, NULL, 10);
}

static int Gpus(void) {
  long n = EnvLong("FAKE_NVML_GPUS", 1);
  if (n < 0) n = 0;
  if (n > 16) n = 16;
  return (int)n;
}

static int IndexOf(nvmlDevice_t d) {
  long i = (long)((char*)d - g_devices);
  if (!d || i < 0 || i >= Gpus()) return -1;
  return (int)i;
}

int fake_nvml_live_inits(void) { return g_live_inits; }
int fake_nvml_set_calls(void) { return g_set_calls; }

#define FAKE_LIMIT_MW 320000u

/* Loads the current limits (file or process memory) into out[16]. */
static void LoadLimits(unsigned int* out) {
  const char* path = getenv("FAKE_NVML_LIMITS_FILE");
  int k = 0;
  if (path && *path) {
    FILE* f = fopen(path, "r");
    unsigned long v = 0;
    if (f) {
      while (k < 16 && fscanf(f, "%lu", &v) == 1) out[k++] = (unsigned int)v;
      fclose(f);
    }
  } else {
    if (!g_limits_ready) {
      for (int i = 0; i < 16; ++i) g_limits_mw[i] = FAKE_LIMIT_MW;
      g_limits_ready = 1;
    }
    for (k = 0; k < 16; ++k) out[k] = g_limits_mw[k];
  }
  for (; k < 16; ++k) out[k] = FAKE_LIMIT_MW;
}

static int StoreLimits(const unsigned int* in) {
  const char* path = getenv("FAKE_NVML_LIMITS_FILE");
  if (path && *path) {
    FILE* f = fopen(path, "w");
    if (!f) return 0;
    for (int i = 0; i < Gpus(); ++i) fprintf(f, "%u\n", in[i]);
    fclose(f);
    return 1;
  }
  for (int i = 0; i < 16; ++i) g_limits_mw[i] = in[i];
  g_limits_ready = 1;
  return 1;
}

const char* nvmlErrorString(nvmlReturn_t rc) {
  switch (rc) {
    case NVML_SUCCESS:
      return "Success";
    case NVML_ERROR_UNINITIALIZED:
      return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT:
      return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED:
      return "Not Supported";
    case NVML_ERROR_NO_PERMISSION:
      return "Insufficient Permissions";
    case 9:
      return "Driver Not Loaded";
    default:
      return "Unknown Error";
  }
}

nvmlReturn_t nvmlInit_v2(void) {
  nvmlReturn_t rc = (nvmlReturn_t)EnvLong("FAKE_NVML_INIT_RC", 0);
  if (rc == NVML_SUCCESS) ++g_live_inits;
  return rc;
}

nvmlReturn_t nvmlShutdown(void) {
  if (g_live_inits <= 0) return NVML_ERROR_UNINITIALIZED;
  --g_live_inits;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlSystemGetDriverVersion(char* buf, unsigned int len) {
  const char* v = "999.99.01";
  if (!buf || len < strlen(v) + 1) return NVML_ERROR_INSUFFICIENT_SIZE;
  strcpy(buf, v);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* count) {
  if (g_live_inits <= 0) return NVML_ERROR_UNINITIALIZED;
  if (!count) return NVML_ERROR_INVALID_ARGUMENT;
  *count = (unsigned int)Gpus();
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device) {
  if (g_live_inits <= 0) return NVML_ERROR_UNINITIALIZED;
  if (!device || (int)index >= Gpus()) return NVML_ERROR_INVALID_ARGUMENT;
  *device = (nvmlDevice_t)(g_devices + index);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char* name, unsigned int len) {
  int i = IndexOf(d);
  if (i < 0 || !name) return NVML_ERROR_INVALID_ARGUMENT;
  snprintf(name, len, "Fake GPU %d", i);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t d, unsigned long long* energy_mj) {
  int i = IndexOf(d);
  if (i < 0 || !energy_mj) return NVML_ERROR_INVALID_ARGUMENT;
  if (EnvLong("FAKE_NVML_NO_ENERGY", 0)) return NVML_ERROR_NOT_SUPPORTED;
  if (EnvLong("FAKE_NVML_NO_ENERGY_GPU", -1) == i) return NVML_ERROR_NOT_SUPPORTED;
  const char* path = getenv("FAKE_NVML_ENERGY_MJ_FILE");
  if (path && *path) {
    FILE* f = fopen(path, "r");
    if (!f) return 999; /* NVML_ERROR_UNKNOWN */
    unsigned long long v = 0, last = 0;
    int k = 0;
    while (fscanf(f, "%llu", &v) == 1) {
      last = v;
      if (k++ == i) break;
    }
    fclose(f);
    if (k == 0) return 999;
    *energy_mj = last;
    return NVML_SUCCESS;
  }
  *energy_mj = (unsigned long long)EnvLong("FAKE_NVML_ENERGY_MJ", 1000000);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int* power_mw) {
  int i = IndexOf(d);
  if (i < 0 || !power_mw) return NVML_ERROR_INVALID_ARGUMENT;
  if (EnvLong("FAKE_NVML_NO_POWER", 0)) return NVML_ERROR_NOT_SUPPORTED;
  *power_mw = (unsigned int)EnvLong("FAKE_NVML_POWER_MW", 150000);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t* u) {
  if (IndexOf(d) < 0 || !u) return NVML_ERROR_INVALID_ARGUMENT;
  u->gpu = 42;
  u->memory = 17;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPowerManagementLimitConstraints(nvmlDevice_t d, unsigned int* min_mw,
                                                          unsigned int* max_mw) {
  if (IndexOf(d) < 0 || !min_mw || !max_mw) return NVML_ERROR_INVALID_ARGUMENT;
  *min_mw = (unsigned int)EnvLong("FAKE_NVML_MIN_MW", 100000);
  *max_mw = (unsigned int)EnvLong("FAKE_NVML_MAX_MW", 350000);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t d, unsigned int* limit_mw) {
  int i = IndexOf(d);
  if (i < 0 || !limit_mw) return NVML_ERROR_INVALID_ARGUMENT;
  unsigned int limits[16];
  LoadLimits(limits);
  *limit_mw = limits[i];
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPowerManagementDefaultLimit(nvmlDevice_t d, unsigned int* limit_mw) {
  if (IndexOf(d) < 0 || !limit_mw) return NVML_ERROR_INVALID_ARGUMENT;
  *limit_mw = (unsigned int)EnvLong("FAKE_NVML_DEFAULT_MW", 350000);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t d, unsigned int* limit_mw) {
  int i = IndexOf(d);
  if (i < 0 || !limit_mw) return NVML_ERROR_INVALID_ARGUMENT;
  unsigned int limits[16];
  LoadLimits(limits);
  *limit_mw = limits[i] < 300000u ? limits[i] : 300000u;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceSetPowerManagementLimit(nvmlDevice_t d, unsigned int limit_mw) {
  int i = IndexOf(d);
  if (g_live_inits <= 0) return NVML_ERROR_UNINITIALIZED;
  if (i < 0) return NVML_ERROR_INVALID_ARGUMENT;
  nvmlReturn_t rc = (nvmlReturn_t)EnvLong("FAKE_NVML_SET_RC", 0);
  if (rc != NVML_SUCCESS) return rc;
  if (EnvLong("FAKE_NVML_SET_FAIL_GPU", -1) == i) return 999; /* NVML_ERROR_UNKNOWN */
  if (limit_mw < (unsigned int)EnvLong("FAKE_NVML_MIN_MW", 100000) ||
      limit_mw > (unsigned int)EnvLong("FAKE_NVML_MAX_MW", 350000))
    return NVML_ERROR_INVALID_ARGUMENT;
  unsigned int limits[16];
  LoadLimits(limits);
  limits[i] = limit_mw;
  if (!StoreLimits(limits)) return 999;
  ++g_set_calls;
  return NVML_SUCCESS;
}
