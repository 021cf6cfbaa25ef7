// The CPU TDP table.
//
// Source: the manufacturers' published specifications — Intel ARK
// ("Processor Base Power", called "TDP" before 12th gen) and AMD's product
// pages ("Default TDP") — the same sources CodeCarbon's cpu_power.csv is built
// from. Rows were written for wattlab from those spec sheets; only parts whose
// figure is unambiguous are listed (parts sold with a configurable TDP and no
// single default, e.g. many mobile chips and EPYC 7001 "155/170 W" SKUs, are
// left out on purpose: a CPU missing here falls back to its generation, then
// to 4 W per thread, and the facts say so).
//
// Each row cites its manufacturer's spec page by name through
// CpuTdpRowCitation (Intel ARK product specifications, AMD product pages).
//
// TDP is per socket. `threads` is hardware threads per socket for server
// parts (used to scale a VM's slice of a socket); 0 where not needed.
#include "meter/cpu_tdp_table.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iterator>
#include <sstream>

#include "core/strings.h"

namespace wattlab {
namespace {

constexpr CpuTdpRow kRows[] = {
    // ---- Intel Core 6th gen (Skylake) desktop, mobile and X-series (Broadwell-E, Skylake-X)
    {"Core i3-6100", 51, 0},
    {"Core i3-6300", 51, 0},
    {"Core i3-6320", 51, 0},
    {"Core i5-6400", 65, 0},
    {"Core i5-6500", 65, 0},
    {"Core i5-6600", 65, 0},
    {"Core i5-6600K", 91, 0},
    {"Core i7-6700", 65, 0},
    {"Core i7-6700K", 91, 0},
    {"Core i5-6400T", 35, 0},
    {"Core i5-6500T", 35, 0},
    {"Core i7-6700T", 35, 0},
    {"Core i5-6200U", 15, 0},
    {"Core i5-6300U", 15, 0},
    {"Core i7-6500U", 15, 0},
    {"Core i7-6600U", 15, 0},
    {"Core i5-6300HQ", 45, 0},
    {"Core i7-6700HQ", 45, 0},
    {"Core i7-6820HQ", 45, 0},
    {"Core i7-6800K", 140, 0},
    {"Core i7-6850K", 140, 0},
    {"Core i7-6900K", 140, 0},
    {"Core i7-6950X", 140, 0},
    {"Core i7-7800X", 140, 0},
    {"Core i7-7820X", 140, 0},
    {"Core i9-7900X", 140, 0},
    {"Core i9-7920X", 140, 0},
    {"Core i9-7940X", 165, 0},
    {"Core i9-7960X", 165, 0},
    {"Core i9-7980XE", 165, 0},
    // ---- Intel Core 7th gen (Kaby Lake) desktop and mobile
    {"Core i3-7100", 51, 0},
    {"Core i3-7300", 51, 0},
    {"Core i3-7350K", 60, 0},
    {"Core i5-7400", 65, 0},
    {"Core i5-7500", 65, 0},
    {"Core i5-7600", 65, 0},
    {"Core i5-7600K", 91, 0},
    {"Core i7-7700", 65, 0},
    {"Core i7-7700K", 91, 0},
    {"Core i5-7500T", 35, 0},
    {"Core i7-7700T", 35, 0},
    {"Core i5-7200U", 15, 0},
    {"Core i5-7300U", 15, 0},
    {"Core i7-7500U", 15, 0},
    {"Core i7-7600U", 15, 0},
    {"Core i5-7300HQ", 45, 0},
    {"Core i7-7700HQ", 45, 0},
    {"Core i7-7820HQ", 45, 0},
    // ---- Intel Core, 8th gen (Coffee Lake) desktop
    {"Core i3-8100", 65, 0},
    {"Core i3-8300", 62, 0},
    {"Core i3-8350K", 91, 0},
    {"Core i5-8400", 65, 0},
    {"Core i5-8500", 65, 0},
    {"Core i5-8600", 65, 0},
    {"Core i5-8600K", 95, 0},
    {"Core i7-8700", 65, 0},
    {"Core i7-8700K", 95, 0},
    {"Core i7-8086K", 95, 0},
    {"Core i5-8400T", 35, 0},
    {"Core i5-8500T", 35, 0},
    {"Core i7-8700T", 35, 0},
    // 8th gen mobile
    {"Core i5-8250U", 15, 0},
    {"Core i5-8350U", 15, 0},
    {"Core i7-8550U", 15, 0},
    {"Core i7-8650U", 15, 0},
    {"Core i5-8265U", 15, 0},
    {"Core i7-8565U", 15, 0},
    {"Core i5-8300H", 45, 0},
    {"Core i7-8750H", 45, 0},
    {"Core i7-8850H", 45, 0},
    {"Core i9-8950HK", 45, 0},
    {"Core i5-8365U", 15, 0},
    {"Core i7-8665U", 15, 0},
    {"Core i5-9300H", 45, 0},
    {"Core i7-9750H", 45, 0},
    {"Core i9-9880H", 45, 0},
    // ---- 9th gen desktop and X-series
    {"Core i3-9100", 65, 0},
    {"Core i3-9100F", 65, 0},
    {"Core i3-9350K", 91, 0},
    {"Core i5-9400", 65, 0},
    {"Core i5-9400F", 65, 0},
    {"Core i5-9500", 65, 0},
    {"Core i5-9600", 65, 0},
    {"Core i5-9600K", 95, 0},
    {"Core i5-9600KF", 95, 0},
    {"Core i7-9700", 65, 0},
    {"Core i7-9700F", 65, 0},
    {"Core i7-9700K", 95, 0},
    {"Core i7-9700KF", 95, 0},
    {"Core i9-9900", 65, 0},
    {"Core i9-9900K", 95, 0},
    {"Core i9-9900KF", 95, 0},
    {"Core i9-9900KS", 127, 0},
    {"Core i7-9800X", 165, 0},
    {"Core i9-9900X", 165, 0},
    {"Core i9-9920X", 165, 0},
    {"Core i9-9940X", 165, 0},
    {"Core i9-9960X", 165, 0},
    {"Core i9-9980XE", 165, 0},
    // ---- 10th gen (Comet Lake / Ice Lake mobile / Cascade Lake-X)
    {"Core i3-10100", 65, 0},
    {"Core i3-10100F", 65, 0},
    {"Core i5-10400", 65, 0},
    {"Core i5-10400F", 65, 0},
    {"Core i5-10500", 65, 0},
    {"Core i5-10600", 65, 0},
    {"Core i5-10600K", 125, 0},
    {"Core i5-10600KF", 125, 0},
    {"Core i7-10700", 65, 0},
    {"Core i7-10700F", 65, 0},
    {"Core i7-10700K", 125, 0},
    {"Core i7-10700KF", 125, 0},
    {"Core i9-10850K", 125, 0},
    {"Core i9-10900", 65, 0},
    {"Core i9-10900F", 65, 0},
    {"Core i9-10900K", 125, 0},
    {"Core i9-10900KF", 125, 0},
    {"Core i9-10900X", 165, 0},
    {"Core i9-10920X", 165, 0},
    {"Core i9-10940X", 165, 0},
    {"Core i9-10980XE", 165, 0},
    {"Core i5-10210U", 15, 0},
    {"Core i7-10510U", 15, 0},
    {"Core i5-1035G1", 15, 0},
    {"Core i7-1065G7", 15, 0},
    {"Core i5-10300H", 45, 0},
    {"Core i7-10750H", 45, 0},
    {"Core i7-10875H", 45, 0},
    {"Core i9-10885H", 45, 0},
    {"Core i5-10310U", 15, 0},
    {"Core i7-10610U", 15, 0},
    {"Core i7-10710U", 15, 0},
    // ---- 11th gen (Rocket Lake, Tiger Lake-H)
    {"Core i5-11400", 65, 0},
    {"Core i5-11400F", 65, 0},
    {"Core i5-11500", 65, 0},
    {"Core i5-11600", 65, 0},
    {"Core i5-11600K", 125, 0},
    {"Core i5-11600KF", 125, 0},
    {"Core i7-11700", 65, 0},
    {"Core i7-11700F", 65, 0},
    {"Core i7-11700K", 125, 0},
    {"Core i7-11700KF", 125, 0},
    {"Core i9-11900", 65, 0},
    {"Core i9-11900F", 65, 0},
    {"Core i9-11900K", 125, 0},
    {"Core i9-11900KF", 125, 0},
    {"Core i5-11400H", 45, 0},
    {"Core i7-11800H", 45, 0},
    {"Core i7-11850H", 45, 0},
    {"Core i9-11900H", 45, 0},
    // ---- 12th gen (Alder Lake): Processor Base Power
    {"Core i3-12100", 60, 0},
    {"Core i3-12100F", 58, 0},
    {"Core i5-12400", 65, 0},
    {"Core i5-12400F", 65, 0},
    {"Core i5-12500", 65, 0},
    {"Core i5-12600", 65, 0},
    {"Core i5-12600K", 125, 0},
    {"Core i5-12600KF", 125, 0},
    {"Core i7-12700", 65, 0},
    {"Core i7-12700F", 65, 0},
    {"Core i7-12700K", 125, 0},
    {"Core i7-12700KF", 125, 0},
    {"Core i9-12900", 65, 0},
    {"Core i9-12900F", 65, 0},
    {"Core i9-12900K", 125, 0},
    {"Core i9-12900KF", 125, 0},
    {"Core i9-12900KS", 150, 0},
    {"Core i5-1235U", 15, 0},
    {"Core i7-1255U", 15, 0},
    {"Core i5-1240P", 28, 0},
    {"Core i7-1260P", 28, 0},
    {"Core i5-12500H", 45, 0},
    {"Core i7-12700H", 45, 0},
    {"Core i9-12900H", 45, 0},
    // ---- 13th gen (Raptor Lake)
    {"Core i3-13100", 60, 0},
    {"Core i3-13100F", 58, 0},
    {"Core i5-13400", 65, 0},
    {"Core i5-13400F", 65, 0},
    {"Core i5-13500", 65, 0},
    {"Core i5-13600", 65, 0},
    {"Core i5-13600K", 125, 0},
    {"Core i5-13600KF", 125, 0},
    {"Core i7-13700", 65, 0},
    {"Core i7-13700F", 65, 0},
    {"Core i7-13700K", 125, 0},
    {"Core i7-13700KF", 125, 0},
    {"Core i9-13900", 65, 0},
    {"Core i9-13900F", 65, 0},
    {"Core i9-13900K", 125, 0},
    {"Core i9-13900KF", 125, 0},
    {"Core i9-13900KS", 150, 0},
    {"Core i5-1335U", 15, 0},
    {"Core i7-1355U", 15, 0},
    {"Core i5-1340P", 28, 0},
    {"Core i7-1360P", 28, 0},
    {"Core i5-13500H", 45, 0},
    {"Core i7-13700H", 45, 0},
    {"Core i9-13900H", 45, 0},
    {"Core i7-13650HX", 55, 0},
    {"Core i9-13900HX", 55, 0},
    {"Core i9-13980HX", 55, 0},
    // ---- 14th gen (Raptor Lake Refresh)
    {"Core i3-14100", 60, 0},
    {"Core i3-14100F", 58, 0},
    {"Core i5-14400", 65, 0},
    {"Core i5-14400F", 65, 0},
    {"Core i5-14500", 65, 0},
    {"Core i5-14600", 65, 0},
    {"Core i5-14600K", 125, 0},
    {"Core i5-14600KF", 125, 0},
    {"Core i7-14700", 65, 0},
    {"Core i7-14700F", 65, 0},
    {"Core i7-14700K", 125, 0},
    {"Core i7-14700KF", 125, 0},
    {"Core i9-14900", 65, 0},
    {"Core i9-14900F", 65, 0},
    {"Core i9-14900K", 125, 0},
    {"Core i9-14900KF", 125, 0},
    {"Core i9-14900KS", 150, 0},
    {"Core i7-14700HX", 55, 0},
    {"Core i9-14900HX", 55, 0},
    // ---- Core Ultra (Meteor Lake, Lunar Lake, Arrow Lake)
    {"Core Ultra 5 125U", 15, 0},
    {"Core Ultra 7 155U", 15, 0},
    {"Core Ultra 7 165U", 15, 0},
    {"Core Ultra 5 125H", 28, 0},
    {"Core Ultra 5 135H", 28, 0},
    {"Core Ultra 7 155H", 28, 0},
    {"Core Ultra 7 165H", 28, 0},
    {"Core Ultra 9 185H", 45, 0},
    {"Core Ultra 5 226V", 17, 0},
    {"Core Ultra 7 258V", 17, 0},
    {"Core Ultra 9 288V", 30, 0},
    {"Core Ultra 5 245K", 125, 0},
    {"Core Ultra 5 245KF", 125, 0},
    {"Core Ultra 7 265K", 125, 0},
    {"Core Ultra 7 265KF", 125, 0},
    {"Core Ultra 9 285K", 125, 0},
    {"Core Ultra 7 265", 65, 0},
    {"Core Ultra 9 285", 65, 0},
    // ---- Xeon E (entry servers)
    {"Xeon E-2124", 71, 4},
    {"Xeon E-2124G", 71, 4},
    {"Xeon E-2126G", 80, 6},
    {"Xeon E-2134", 71, 8},
    {"Xeon E-2136", 80, 12},
    {"Xeon E-2144G", 71, 8},
    {"Xeon E-2146G", 80, 12},
    {"Xeon E-2174G", 71, 8},
    {"Xeon E-2176G", 80, 12},
    {"Xeon E-2186G", 95, 12},
    {"Xeon E-2224", 71, 4},
    {"Xeon E-2224G", 71, 4},
    {"Xeon E-2226G", 80, 6},
    {"Xeon E-2234", 71, 8},
    {"Xeon E-2236", 80, 12},
    {"Xeon E-2244G", 71, 8},
    {"Xeon E-2246G", 80, 12},
    {"Xeon E-2276G", 80, 12},
    {"Xeon E-2278G", 80, 16},
    {"Xeon E-2286G", 95, 12},
    {"Xeon E-2288G", 95, 16},
    {"Xeon E-2314", 65, 4},
    {"Xeon E-2324G", 65, 4},
    {"Xeon E-2334", 65, 8},
    {"Xeon E-2336", 65, 12},
    {"Xeon E-2356G", 80, 12},
    {"Xeon E-2378", 65, 16},
    {"Xeon E-2378G", 80, 16},
    {"Xeon E-2386G", 95, 12},
    {"Xeon E-2388G", 95, 16},
    // ---- Xeon W (workstations)
    {"Xeon W-2123", 120, 8},
    {"Xeon W-2133", 140, 12},
    {"Xeon W-2135", 140, 12},
    {"Xeon W-2145", 140, 16},
    {"Xeon W-2155", 140, 20},
    {"Xeon W-2175", 140, 28},
    {"Xeon W-2195", 140, 36},
    {"Xeon W-2245", 155, 16},
    {"Xeon W-2255", 165, 20},
    {"Xeon W-2265", 165, 24},
    {"Xeon W-2275", 165, 28},
    {"Xeon W-2295", 165, 36},
    {"Xeon W-3175X", 255, 56},
    {"Xeon W-3265", 205, 48},
    {"Xeon W-3275", 205, 56},
    {"Xeon W-3375", 270, 76},
    {"Xeon W-1290P", 125, 20},
    {"Xeon W-1390P", 125, 16},
    {"Xeon w5-2455X", 200, 24},
    {"Xeon w5-3435X", 270, 32},
    {"Xeon w7-2495X", 225, 48},
    {"Xeon w7-3465X", 300, 56},
    {"Xeon w9-3495X", 350, 112},
    // ---- Xeon E3 v1 (Sandy Bridge; cpuinfo prints "E31230", read as "E3-1230 v1"),
    // v2 (Ivy Bridge), v3 (Haswell), v4 (Broadwell), v5 (Skylake), v6 (Kaby Lake)
    {"Xeon E3-1220 v1", 80, 4},
    {"Xeon E3-1225 v1", 95, 4},
    {"Xeon E3-1230 v1", 80, 8},
    {"Xeon E3-1235 v1", 95, 8},
    {"Xeon E3-1240 v1", 80, 8},
    {"Xeon E3-1245 v1", 95, 8},
    {"Xeon E3-1270 v1", 80, 8},
    {"Xeon E3-1275 v1", 95, 8},
    {"Xeon E3-1280 v1", 95, 8},
    {"Xeon E3-1220 v2", 69, 4},
    {"Xeon E3-1225 v2", 77, 4},
    {"Xeon E3-1230 v2", 69, 8},
    {"Xeon E3-1240 v2", 69, 8},
    {"Xeon E3-1245 v2", 77, 8},
    {"Xeon E3-1270 v2", 69, 8},
    {"Xeon E3-1275 v2", 77, 8},
    {"Xeon E3-1280 v2", 69, 8},
    {"Xeon E3-1220 v3", 80, 4},
    {"Xeon E3-1225 v3", 84, 4},
    {"Xeon E3-1230 v3", 80, 8},
    {"Xeon E3-1231 v3", 80, 8},
    {"Xeon E3-1240 v3", 80, 8},
    {"Xeon E3-1241 v3", 80, 8},
    {"Xeon E3-1245 v3", 84, 8},
    {"Xeon E3-1246 v3", 84, 8},
    {"Xeon E3-1270 v3", 80, 8},
    {"Xeon E3-1271 v3", 80, 8},
    {"Xeon E3-1275 v3", 84, 8},
    {"Xeon E3-1276 v3", 84, 8},
    {"Xeon E3-1280 v3", 82, 8},
    {"Xeon E3-1281 v3", 82, 8},
    {"Xeon E3-1230L v3", 25, 8},
    {"Xeon E3-1285 v4", 95, 8},
    {"Xeon E3-1285L v4", 65, 8},
    {"Xeon E3-1265L v4", 35, 8},
    {"Xeon E3-1220 v5", 80, 4},
    {"Xeon E3-1225 v5", 80, 4},
    {"Xeon E3-1230 v5", 80, 8},
    {"Xeon E3-1240 v5", 80, 8},
    {"Xeon E3-1245 v5", 80, 8},
    {"Xeon E3-1270 v5", 80, 8},
    {"Xeon E3-1275 v5", 80, 8},
    {"Xeon E3-1280 v5", 80, 8},
    {"Xeon E3-1240L v5", 25, 8},
    {"Xeon E3-1260L v5", 45, 8},
    {"Xeon E3-1220 v6", 72, 4},
    {"Xeon E3-1225 v6", 73, 4},
    {"Xeon E3-1230 v6", 72, 8},
    {"Xeon E3-1240 v6", 72, 8},
    {"Xeon E3-1245 v6", 73, 8},
    {"Xeon E3-1270 v6", 72, 8},
    {"Xeon E3-1275 v6", 73, 8},
    {"Xeon E3-1280 v6", 72, 8},
    {"Xeon E3-1285 v6", 79, 8},
    // ---- Xeon E5 v1 (Sandy Bridge-EP; cpuinfo prints "E5-2670 0", read as
    // "E5-2670 v1") and v2 (Ivy Bridge-EP)
    {"Xeon E5-1620 v1", 130, 8},
    {"Xeon E5-1650 v1", 130, 12},
    {"Xeon E5-1660 v1", 130, 12},
    {"Xeon E5-2603 v1", 80, 4},
    {"Xeon E5-2609 v1", 80, 4},
    {"Xeon E5-2620 v1", 95, 12},
    {"Xeon E5-2630 v1", 95, 12},
    {"Xeon E5-2630L v1", 60, 12},
    {"Xeon E5-2640 v1", 95, 12},
    {"Xeon E5-2643 v1", 130, 8},
    {"Xeon E5-2650 v1", 95, 16},
    {"Xeon E5-2650L v1", 70, 16},
    {"Xeon E5-2660 v1", 95, 16},
    {"Xeon E5-2665 v1", 115, 16},
    {"Xeon E5-2667 v1", 130, 12},
    {"Xeon E5-2670 v1", 115, 16},
    {"Xeon E5-2680 v1", 130, 16},
    {"Xeon E5-2690 v1", 135, 16},
    {"Xeon E5-2420 v1", 95, 12},
    {"Xeon E5-2430 v1", 95, 12},
    {"Xeon E5-2440 v1", 95, 12},
    {"Xeon E5-2450 v1", 95, 16},
    {"Xeon E5-2470 v1", 95, 16},
    {"Xeon E5-1620 v2", 130, 8},
    {"Xeon E5-1650 v2", 130, 12},
    {"Xeon E5-1660 v2", 130, 12},
    {"Xeon E5-2603 v2", 80, 4},
    {"Xeon E5-2609 v2", 80, 4},
    {"Xeon E5-2620 v2", 80, 12},
    {"Xeon E5-2630 v2", 80, 12},
    {"Xeon E5-2630L v2", 60, 12},
    {"Xeon E5-2640 v2", 95, 16},
    {"Xeon E5-2643 v2", 130, 12},
    {"Xeon E5-2650 v2", 95, 16},
    {"Xeon E5-2650L v2", 70, 20},
    {"Xeon E5-2660 v2", 95, 20},
    {"Xeon E5-2667 v2", 130, 16},
    {"Xeon E5-2670 v2", 115, 20},
    {"Xeon E5-2680 v2", 115, 20},
    {"Xeon E5-2690 v2", 130, 20},
    {"Xeon E5-2695 v2", 115, 24},
    {"Xeon E5-2697 v2", 130, 24},
    {"Xeon E5-2420 v2", 80, 12},
    {"Xeon E5-2430 v2", 80, 12},
    {"Xeon E5-2440 v2", 95, 16},
    {"Xeon E5-2450 v2", 95, 16},
    {"Xeon E5-2470 v2", 95, 20},
    // ---- Xeon E5 v3 (Haswell-EP) and v4 (Broadwell-EP), still common in clouds
    {"Xeon E5-1620 v3", 140, 8},
    {"Xeon E5-1630 v3", 140, 8},
    {"Xeon E5-1650 v3", 140, 12},
    {"Xeon E5-1660 v3", 140, 16},
    {"Xeon E5-1680 v3", 140, 16},
    {"Xeon E5-2603 v3", 85, 6},
    {"Xeon E5-2609 v3", 85, 6},
    {"Xeon E5-2623 v3", 105, 8},
    {"Xeon E5-2630L v3", 55, 16},
    {"Xeon E5-2637 v3", 135, 8},
    {"Xeon E5-2643 v3", 135, 12},
    {"Xeon E5-2650L v3", 65, 24},
    {"Xeon E5-2667 v3", 135, 16},
    {"Xeon E5-2687W v3", 160, 20},
    {"Xeon E5-1620 v4", 140, 8},
    {"Xeon E5-1650 v4", 140, 12},
    {"Xeon E5-1660 v4", 140, 16},
    {"Xeon E5-1680 v4", 140, 16},
    {"Xeon E5-2603 v4", 85, 6},
    {"Xeon E5-2609 v4", 85, 8},
    {"Xeon E5-2623 v4", 85, 8},
    {"Xeon E5-2630L v4", 55, 20},
    {"Xeon E5-2637 v4", 135, 8},
    {"Xeon E5-2643 v4", 135, 12},
    {"Xeon E5-2650L v4", 65, 28},
    {"Xeon E5-2667 v4", 135, 16},
    {"Xeon E5-2687W v4", 160, 24},
    {"Xeon E5-2620 v3", 85, 12},
    {"Xeon E5-2630 v3", 85, 16},
    {"Xeon E5-2640 v3", 90, 16},
    {"Xeon E5-2650 v3", 105, 20},
    {"Xeon E5-2660 v3", 105, 20},
    {"Xeon E5-2670 v3", 120, 24},
    {"Xeon E5-2680 v3", 120, 24},
    {"Xeon E5-2683 v3", 120, 28},
    {"Xeon E5-2690 v3", 135, 24},
    {"Xeon E5-2695 v3", 120, 28},
    {"Xeon E5-2697 v3", 145, 28},
    {"Xeon E5-2698 v3", 135, 32},
    {"Xeon E5-2699 v3", 145, 36},
    {"Xeon E5-2620 v4", 85, 16},
    {"Xeon E5-2630 v4", 85, 20},
    {"Xeon E5-2640 v4", 90, 20},
    {"Xeon E5-2650 v4", 105, 24},
    {"Xeon E5-2660 v4", 105, 28},
    {"Xeon E5-2680 v4", 120, 28},
    {"Xeon E5-2683 v4", 120, 32},
    {"Xeon E5-2690 v4", 135, 28},
    {"Xeon E5-2695 v4", 120, 36},
    {"Xeon E5-2697 v4", 145, 36},
    {"Xeon E5-2698 v4", 135, 40},
    {"Xeon E5-2699 v4", 145, 44},
    // ---- Xeon E7 v1 (Westmere-EX; cpuinfo prints "E7- 4870", read as "E7-4870 v1"),
    // v2 (Ivy Bridge-EX), v3 (Haswell-EX), v4 (Broadwell-EX)
    {"Xeon E7-2870 v1", 130, 20},
    {"Xeon E7-4820 v1", 105, 16},
    {"Xeon E7-4830 v1", 105, 16},
    {"Xeon E7-4850 v1", 130, 20},
    {"Xeon E7-4860 v1", 130, 20},
    {"Xeon E7-4870 v1", 130, 20},
    {"Xeon E7-8870 v1", 130, 20},
    {"Xeon E7-4850 v2", 105, 24},
    {"Xeon E7-4870 v2", 130, 30},
    {"Xeon E7-4880 v2", 130, 30},
    {"Xeon E7-4890 v2", 155, 30},
    {"Xeon E7-8870 v2", 130, 30},
    {"Xeon E7-8880 v2", 130, 30},
    {"Xeon E7-8890 v2", 155, 30},
    {"Xeon E7-4830 v3", 115, 24},
    {"Xeon E7-4850 v3", 115, 28},
    {"Xeon E7-8860 v3", 140, 32},
    {"Xeon E7-8870 v3", 140, 36},
    {"Xeon E7-8880 v3", 150, 36},
    {"Xeon E7-8890 v3", 165, 36},
    {"Xeon E7-4809 v4", 115, 16},
    {"Xeon E7-4820 v4", 115, 20},
    {"Xeon E7-4830 v4", 115, 28},
    {"Xeon E7-4850 v4", 115, 32},
    {"Xeon E7-8867 v4", 165, 36},
    {"Xeon E7-8870 v4", 140, 40},
    {"Xeon E7-8880 v4", 150, 44},
    {"Xeon E7-8890 v4", 165, 48},
    // ---- Xeon D-1500 (Broadwell-DE) and D-2100 (Skylake-D)
    {"Xeon D-1518", 35, 8},
    {"Xeon D-1520", 45, 8},
    {"Xeon D-1521", 45, 8},
    {"Xeon D-1527", 35, 8},
    {"Xeon D-1528", 35, 12},
    {"Xeon D-1531", 45, 12},
    {"Xeon D-1537", 35, 16},
    {"Xeon D-1540", 45, 16},
    {"Xeon D-1541", 45, 16},
    {"Xeon D-1548", 45, 16},
    {"Xeon D-1557", 45, 24},
    {"Xeon D-1567", 65, 24},
    {"Xeon D-1571", 45, 32},
    {"Xeon D-1577", 45, 32},
    {"Xeon D-1581", 65, 32},
    {"Xeon D-1587", 65, 32},
    {"Xeon D-2123IT", 60, 8},
    {"Xeon D-2141I", 65, 16},
    {"Xeon D-2143IT", 65, 16},
    {"Xeon D-2146NT", 80, 16},
    {"Xeon D-2161I", 90, 24},
    {"Xeon D-2166NT", 85, 24},
    {"Xeon D-2183IT", 100, 32},
    {"Xeon D-2187NT", 110, 32},
    // ---- Xeon Scalable 1st gen (Skylake-SP)
    {"Xeon Platinum 8180", 205, 56},
    {"Xeon Platinum 8176", 165, 56},
    {"Xeon Platinum 8170", 165, 52},
    {"Xeon Platinum 8168", 205, 48},
    {"Xeon Platinum 8160", 150, 48},
    {"Xeon Platinum 8158", 150, 24},
    {"Xeon Platinum 8156", 105, 8},
    {"Xeon Platinum 8153", 125, 32},
    {"Xeon Gold 6154", 200, 36},
    {"Xeon Gold 6152", 140, 44},
    {"Xeon Gold 6150", 165, 36},
    {"Xeon Gold 6148", 150, 40},
    {"Xeon Gold 6140", 140, 36},
    {"Xeon Gold 6138", 125, 40},
    {"Xeon Gold 6136", 150, 24},
    {"Xeon Gold 6134", 130, 16},
    {"Xeon Gold 6132", 140, 28},
    {"Xeon Gold 6130", 125, 32},
    {"Xeon Gold 6128", 115, 12},
    {"Xeon Gold 6126", 125, 24},
    {"Xeon Gold 5122", 105, 8},
    {"Xeon Gold 5120", 105, 28},
    {"Xeon Gold 5118", 105, 24},
    {"Xeon Gold 5115", 85, 20},
    {"Xeon Silver 4116", 85, 24},
    {"Xeon Silver 4114", 85, 20},
    {"Xeon Silver 4110", 85, 16},
    {"Xeon Silver 4108", 85, 16},
    {"Xeon Bronze 3106", 85, 8},
    {"Xeon Bronze 3104", 85, 6},
    {"Xeon Platinum 8164", 150, 52},
    {"Xeon Gold 6142", 150, 32},
    {"Xeon Gold 6144", 150, 16},
    {"Xeon Gold 6146", 165, 24},
    {"Xeon Gold 5117", 105, 28},
    {"Xeon Silver 4112", 85, 8},
    // ---- Xeon Scalable 2nd gen (Cascade Lake, incl. R refresh)
    {"Xeon Platinum 9282", 400, 112},
    {"Xeon Platinum 8280", 205, 56},
    {"Xeon Platinum 8280L", 205, 56},
    {"Xeon Platinum 8276", 165, 56},
    {"Xeon Platinum 8270", 205, 52},
    {"Xeon Platinum 8268", 205, 48},
    {"Xeon Platinum 8260", 165, 48},
    {"Xeon Platinum 8253", 125, 32},
    {"Xeon Gold 6258R", 205, 56},
    {"Xeon Gold 6254", 200, 36},
    {"Xeon Gold 6252", 150, 48},
    {"Xeon Gold 6248R", 205, 48},
    {"Xeon Gold 6248", 150, 40},
    {"Xeon Gold 6246R", 205, 32},
    {"Xeon Gold 6246", 165, 24},
    {"Xeon Gold 6244", 150, 16},
    {"Xeon Gold 6242R", 205, 40},
    {"Xeon Gold 6242", 150, 32},
    {"Xeon Gold 6240R", 165, 48},
    {"Xeon Gold 6240", 150, 36},
    {"Xeon Gold 6238R", 165, 56},
    {"Xeon Gold 6238", 140, 44},
    {"Xeon Gold 6234", 130, 16},
    {"Xeon Gold 6230R", 150, 52},
    {"Xeon Gold 6230", 125, 40},
    {"Xeon Gold 6226R", 150, 32},
    {"Xeon Gold 6226", 125, 24},
    {"Xeon Gold 5222", 105, 8},
    {"Xeon Gold 5220R", 150, 48},
    {"Xeon Gold 5220", 125, 36},
    {"Xeon Gold 5218R", 125, 40},
    {"Xeon Gold 5218", 125, 32},
    {"Xeon Gold 5217", 115, 16},
    {"Xeon Gold 5215", 85, 20},
    {"Xeon Silver 4216", 100, 32},
    {"Xeon Silver 4215", 85, 16},
    {"Xeon Silver 4214R", 100, 24},
    {"Xeon Silver 4214", 85, 24},
    {"Xeon Silver 4210R", 100, 20},
    {"Xeon Silver 4210", 85, 20},
    {"Xeon Silver 4208", 85, 16},
    {"Xeon Bronze 3206R", 85, 8},
    {"Xeon Bronze 3204", 85, 6},
    // ---- Xeon Scalable 3rd gen (Ice Lake-SP)
    {"Xeon Platinum 8380", 270, 80},
    {"Xeon Platinum 8368", 270, 76},
    {"Xeon Platinum 8362", 265, 64},
    {"Xeon Platinum 8360Y", 250, 72},
    {"Xeon Platinum 8358", 250, 64},
    {"Xeon Platinum 8358P", 240, 64},
    {"Xeon Platinum 8352Y", 205, 64},
    {"Xeon Platinum 8352V", 195, 72},
    {"Xeon Platinum 8351N", 225, 72},
    {"Xeon Gold 6348", 235, 56},
    {"Xeon Gold 6346", 205, 32},
    {"Xeon Gold 6342", 230, 48},
    {"Xeon Gold 6338", 205, 64},
    {"Xeon Gold 6336Y", 185, 48},
    {"Xeon Gold 6354", 205, 36},
    {"Xeon Gold 6330", 205, 56},
    {"Xeon Gold 6326", 185, 32},
    {"Xeon Gold 6314U", 205, 64},
    {"Xeon Gold 6312U", 185, 48},
    {"Xeon Gold 5320", 185, 52},
    {"Xeon Gold 5318Y", 165, 48},
    {"Xeon Gold 5317", 150, 24},
    {"Xeon Gold 5315Y", 140, 16},
    {"Xeon Silver 4316", 150, 40},
    {"Xeon Silver 4314", 135, 32},
    {"Xeon Silver 4310", 120, 24},
    {"Xeon Silver 4309Y", 105, 16},
    // ---- Xeon Scalable 4th gen (Sapphire Rapids)
    {"Xeon Platinum 8490H", 350, 120},
    {"Xeon Platinum 8480+", 350, 112},
    {"Xeon Platinum 8471N", 300, 104},
    {"Xeon Platinum 8470", 350, 104},
    {"Xeon Platinum 8468", 350, 96},
    {"Xeon Platinum 8462Y+", 300, 64},
    {"Xeon Platinum 8460Y+", 300, 80},
    {"Xeon Platinum 8458P", 350, 88},
    {"Xeon Platinum 8454H", 270, 64},
    {"Xeon Platinum 8452Y", 300, 72},
    {"Xeon Platinum 8444H", 270, 32},
    {"Xeon Gold 6454S", 270, 64},
    {"Xeon Gold 6448Y", 225, 64},
    {"Xeon Gold 6444Y", 270, 32},
    {"Xeon Gold 6442Y", 225, 48},
    {"Xeon Gold 6438Y+", 205, 64},
    {"Xeon Gold 6430", 270, 64},
    {"Xeon Gold 6426Y", 185, 32},
    {"Xeon Gold 5420+", 205, 56},
    {"Xeon Gold 5418Y", 185, 48},
    {"Xeon Gold 5416S", 150, 32},
    {"Xeon Gold 5415+", 150, 16},
    {"Xeon Silver 4416+", 165, 40},
    {"Xeon Silver 4410Y", 150, 24},
    // ---- Xeon Scalable 5th gen (Emerald Rapids)
    {"Xeon Platinum 8592+", 350, 128},
    {"Xeon Platinum 8580", 350, 120},
    {"Xeon Platinum 8568Y+", 350, 96},
    {"Xeon Platinum 8562Y+", 300, 64},
    {"Xeon Platinum 8558", 330, 96},
    {"Xeon Gold 6554S", 270, 72},
    {"Xeon Gold 6548Y+", 250, 64},
    {"Xeon Gold 6544Y", 270, 32},
    {"Xeon Gold 6542Y", 250, 48},
    {"Xeon Gold 6530", 270, 64},
    {"Xeon Gold 6526Y", 195, 32},
    {"Xeon Gold 5520+", 205, 56},
    {"Xeon Silver 4514Y", 150, 32},
    {"Xeon Silver 4510", 150, 24},
    {"Xeon Platinum 8570", 350, 112},
    {"Xeon Gold 6538Y+", 225, 64},
    {"Xeon Gold 5515+", 165, 16},
    {"Xeon Silver 4516Y+", 185, 48},
    {"Xeon Bronze 3508U", 125, 8},
    // ---- Xeon 6 (Granite Rapids P-cores, Sierra Forest E-cores without SMT)
    {"Xeon 6980P", 500, 256},
    {"Xeon 6979P", 500, 240},
    {"Xeon 6972P", 500, 192},
    {"Xeon 6960P", 500, 144},
    {"Xeon 6952P", 400, 192},
    {"Xeon 6780E", 330, 144},
    {"Xeon 6766E", 250, 144},
    // ---- AMD EPYC 7001 (Naples): only SKUs with a single default TDP
    {"EPYC 7601", 180, 64},
    {"EPYC 7551", 180, 64},
    {"EPYC 7551P", 180, 64},
    {"EPYC 7451", 180, 48},
    {"EPYC 7371", 200, 32},
    {"EPYC 7251", 120, 16},
    // ---- EPYC 7002 (Rome)
    {"EPYC 7H12", 280, 128},
    {"EPYC 7742", 225, 128},
    {"EPYC 7702", 200, 128},
    {"EPYC 7702P", 200, 128},
    {"EPYC 7662", 225, 128},
    {"EPYC 7642", 225, 96},
    {"EPYC 7552", 200, 96},
    {"EPYC 7542", 225, 64},
    {"EPYC 7532", 200, 64},
    {"EPYC 7502", 180, 64},
    {"EPYC 7502P", 180, 64},
    {"EPYC 7452", 155, 64},
    {"EPYC 7402", 180, 48},
    {"EPYC 7402P", 180, 48},
    {"EPYC 7352", 155, 48},
    {"EPYC 7302", 155, 32},
    {"EPYC 7302P", 155, 32},
    {"EPYC 7282", 120, 32},
    {"EPYC 7272", 120, 24},
    {"EPYC 7262", 155, 16},
    {"EPYC 7252", 120, 16},
    {"EPYC 7232P", 120, 16},
    {"EPYC 7F72", 240, 48},
    {"EPYC 7F52", 240, 32},
    {"EPYC 7F32", 180, 16},
    // ---- EPYC 7003 (Milan, Milan-X)
    {"EPYC 7763", 280, 128},
    {"EPYC 7713", 225, 128},
    {"EPYC 7713P", 225, 128},
    {"EPYC 7663", 240, 112},
    {"EPYC 7643", 225, 96},
    {"EPYC 7543", 225, 64},
    {"EPYC 7543P", 225, 64},
    {"EPYC 7513", 200, 64},
    {"EPYC 7453", 225, 56},
    {"EPYC 7443", 200, 48},
    {"EPYC 7443P", 200, 48},
    {"EPYC 7413", 180, 48},
    {"EPYC 7343", 190, 32},
    {"EPYC 7313", 155, 32},
    {"EPYC 7313P", 155, 32},
    {"EPYC 7303", 130, 32},
    {"EPYC 7203", 120, 16},
    {"EPYC 72F3", 180, 16},
    {"EPYC 73F3", 240, 32},
    {"EPYC 74F3", 240, 48},
    {"EPYC 75F3", 280, 64},
    {"EPYC 7773X", 280, 128},
    {"EPYC 7573X", 280, 64},
    {"EPYC 7473X", 240, 48},
    {"EPYC 7373X", 240, 32},
    // ---- EPYC 9004 (Genoa, Genoa-X) and 97x4 (Bergamo)
    {"EPYC 9654", 360, 192},
    {"EPYC 9654P", 360, 192},
    {"EPYC 9634", 290, 168},
    {"EPYC 9554", 360, 128},
    {"EPYC 9554P", 360, 128},
    {"EPYC 9534", 280, 128},
    {"EPYC 9474F", 360, 96},
    {"EPYC 9454", 290, 96},
    {"EPYC 9454P", 290, 96},
    {"EPYC 9374F", 320, 64},
    {"EPYC 9354", 280, 64},
    {"EPYC 9354P", 280, 64},
    {"EPYC 9334", 210, 64},
    {"EPYC 9274F", 320, 48},
    {"EPYC 9254", 200, 48},
    {"EPYC 9224", 200, 48},
    {"EPYC 9174F", 320, 32},
    {"EPYC 9124", 200, 32},
    {"EPYC 9684X", 400, 192},
    {"EPYC 9384X", 320, 64},
    {"EPYC 9184X", 320, 32},
    {"EPYC 9754", 360, 256},
    {"EPYC 9754S", 360, 128},
    {"EPYC 9734", 340, 224},
    // ---- EPYC 8004 (Siena, Zen 4c, socket SP6): P and PN parts differ in TDP
    {"EPYC 8024P", 90, 16},
    {"EPYC 8024PN", 80, 16},
    {"EPYC 8124P", 125, 32},
    {"EPYC 8124PN", 100, 32},
    {"EPYC 8224P", 160, 48},
    {"EPYC 8224PN", 120, 48},
    {"EPYC 8324P", 180, 64},
    {"EPYC 8324PN", 130, 64},
    {"EPYC 8434P", 200, 96},
    {"EPYC 8434PN", 155, 96},
    {"EPYC 8534P", 200, 128},
    {"EPYC 8534PN", 175, 128},
    // ---- EPYC 4004 (Raphael, Zen 4, socket AM5)
    {"EPYC 4124P", 65, 8},
    {"EPYC 4244P", 65, 12},
    {"EPYC 4344P", 65, 16},
    {"EPYC 4364P", 105, 16},
    {"EPYC 4464P", 65, 24},
    {"EPYC 4484PX", 120, 24},
    {"EPYC 4564P", 170, 32},
    {"EPYC 4584PX", 120, 32},
    // ---- EPYC 9005 (Turin)
    {"EPYC 9965", 500, 384},
    {"EPYC 9755", 500, 256},
    {"EPYC 9655", 400, 192},
    {"EPYC 9575F", 400, 128},
    {"EPYC 9555", 360, 128},
    // ---- Ryzen 1000/2000 (Zen, Zen+)
    {"Ryzen 7 1800X", 95, 0},
    {"Ryzen 7 1700X", 95, 0},
    {"Ryzen 7 1700", 65, 0},
    {"Ryzen 5 1600X", 95, 0},
    {"Ryzen 5 1600", 65, 0},
    {"Ryzen 5 1500X", 65, 0},
    {"Ryzen 5 1400", 65, 0},
    {"Ryzen 3 1300X", 65, 0},
    {"Ryzen 7 2700X", 105, 0},
    {"Ryzen 7 2700", 65, 0},
    {"Ryzen 5 2600X", 95, 0},
    {"Ryzen 5 2600", 65, 0},
    {"Ryzen 5 2400G", 65, 0},
    {"Ryzen 3 2200G", 65, 0},
    // ---- Ryzen 3000/4000 (Zen 2)
    {"Ryzen 9 3950X", 105, 0},
    {"Ryzen 9 3900X", 105, 0},
    {"Ryzen 9 3900", 65, 0},
    {"Ryzen 7 3800X", 105, 0},
    {"Ryzen 7 3800XT", 105, 0},
    {"Ryzen 7 3700X", 65, 0},
    {"Ryzen 5 3600X", 95, 0},
    {"Ryzen 5 3600XT", 95, 0},
    {"Ryzen 5 3600", 65, 0},
    {"Ryzen 5 3500X", 65, 0},
    {"Ryzen 3 3300X", 65, 0},
    {"Ryzen 3 3100", 65, 0},
    {"Ryzen 5 3400G", 65, 0},
    {"Ryzen 3 3200G", 65, 0},
    {"Ryzen 5 3500U", 15, 0},
    {"Ryzen 7 3700U", 15, 0},
    {"Ryzen 5 4500", 65, 0},
    {"Ryzen 5 4600G", 65, 0},
    {"Ryzen 7 4700G", 65, 0},
    {"Ryzen 5 4500U", 15, 0},
    {"Ryzen 7 4700U", 15, 0},
    {"Ryzen 7 4800U", 15, 0},
    {"Ryzen 5 4600H", 45, 0},
    {"Ryzen 7 4800H", 45, 0},
    {"Ryzen 7 4800HS", 35, 0},
    {"Ryzen 9 4900H", 45, 0},
    // ---- Ryzen 5000 (Zen 3)
    {"Ryzen 9 5950X", 105, 0},
    {"Ryzen 9 5900X", 105, 0},
    {"Ryzen 9 5900", 65, 0},
    {"Ryzen 7 5800X", 105, 0},
    {"Ryzen 7 5800X3D", 105, 0},
    {"Ryzen 7 5800", 65, 0},
    {"Ryzen 7 5700X", 65, 0},
    {"Ryzen 7 5700X3D", 105, 0},
    {"Ryzen 7 5700G", 65, 0},
    {"Ryzen 5 5600X", 65, 0},
    {"Ryzen 5 5600X3D", 105, 0},
    {"Ryzen 5 5600", 65, 0},
    {"Ryzen 5 5600G", 65, 0},
    {"Ryzen 5 5500", 65, 0},
    {"Ryzen 5 5500U", 15, 0},
    {"Ryzen 5 5600U", 15, 0},
    {"Ryzen 5 5625U", 15, 0},
    {"Ryzen 7 5700U", 15, 0},
    {"Ryzen 7 5800U", 15, 0},
    {"Ryzen 7 5825U", 15, 0},
    {"Ryzen 5 5600H", 45, 0},
    {"Ryzen 7 5800H", 45, 0},
    {"Ryzen 7 5800HS", 35, 0},
    {"Ryzen 9 5900HS", 35, 0},
    {"Ryzen 9 5900HX", 45, 0},
    {"Ryzen 9 5980HX", 45, 0},
    {"Ryzen 5 6600H", 45, 0},
    {"Ryzen 7 6800H", 45, 0},
    {"Ryzen 9 6900HX", 45, 0},
    {"Ryzen 7 6800U", 28, 0},
    // ---- Ryzen 7000/8000 (Zen 4)
    {"Ryzen 9 7950X", 170, 0},
    {"Ryzen 9 7950X3D", 120, 0},
    {"Ryzen 9 7900X", 170, 0},
    {"Ryzen 9 7900X3D", 120, 0},
    {"Ryzen 9 7900", 65, 0},
    {"Ryzen 7 7800X3D", 120, 0},
    {"Ryzen 7 7700X", 105, 0},
    {"Ryzen 7 7700", 65, 0},
    {"Ryzen 5 7600X", 105, 0},
    {"Ryzen 5 7600", 65, 0},
    {"Ryzen 5 7500F", 65, 0},
    {"Ryzen 7 8700G", 65, 0},
    {"Ryzen 5 8600G", 65, 0},
    {"Ryzen 5 8500G", 65, 0},
    {"Ryzen 9 7945HX", 55, 0},
    {"Ryzen 5 7640U", 28, 0},
    {"Ryzen 7 7840U", 28, 0},
    {"Ryzen 7 7840HS", 35, 0},
    {"Ryzen 9 7940HS", 35, 0},
    {"Ryzen 7 8840U", 28, 0},
    {"Ryzen 7 8845HS", 45, 0},
    // ---- Ryzen 9000 (Zen 5)
    {"Ryzen 9 9950X", 170, 0},
    {"Ryzen 9 9950X3D", 170, 0},
    {"Ryzen 9 9900X", 120, 0},
    {"Ryzen 9 9900X3D", 120, 0},
    {"Ryzen 7 9800X3D", 120, 0},
    {"Ryzen 7 9700X", 65, 0},
    {"Ryzen 5 9600X", 65, 0},
    {"Ryzen AI 9 HX 370", 28, 0},
    // ---- Ryzen Threadripper
    {"Ryzen Threadripper 1950X", 180, 32},
    {"Ryzen Threadripper 1920X", 180, 24},
    {"Ryzen Threadripper 1900X", 180, 16},
    {"Ryzen Threadripper 2990WX", 250, 64},
    {"Ryzen Threadripper 2970WX", 250, 48},
    {"Ryzen Threadripper 2950X", 180, 32},
    {"Ryzen Threadripper 2920X", 180, 24},
    {"Ryzen Threadripper 3990X", 280, 128},
    {"Ryzen Threadripper 3970X", 280, 64},
    {"Ryzen Threadripper 3960X", 280, 48},
    {"Ryzen Threadripper PRO 3995WX", 280, 128},
    {"Ryzen Threadripper PRO 3975WX", 280, 64},
    {"Ryzen Threadripper PRO 3955WX", 280, 32},
    {"Ryzen Threadripper PRO 3945WX", 280, 24},
    {"Ryzen Threadripper PRO 5995WX", 280, 128},
    {"Ryzen Threadripper PRO 5975WX", 280, 64},
    {"Ryzen Threadripper PRO 5965WX", 280, 48},
    {"Ryzen Threadripper PRO 5955WX", 280, 32},
    {"Ryzen Threadripper PRO 5945WX", 280, 24},
    {"Ryzen Threadripper 7980X", 350, 128},
    {"Ryzen Threadripper 7970X", 350, 64},
    {"Ryzen Threadripper 7960X", 350, 48},
    {"Ryzen Threadripper PRO 7995WX", 350, 192},
    {"Ryzen Threadripper PRO 7985WX", 350, 128},
    {"Ryzen Threadripper PRO 7975WX", 350, 64},
    {"Ryzen Threadripper PRO 7965WX", 350, 48},
    {"Ryzen Threadripper PRO 7955WX", 350, 32},
    {"Ryzen Threadripper PRO 7945WX", 350, 24},
};

// Generations by (vendor, family, model range). The constant is the
// flagship's TDP per hardware thread: a VM slice of N vCPUs gets N times it.
// Family/model numbers: Intel SDM "CPUID signature" tables and AMD's
// processor programming references and revision guides (family 17h = Zen /
// Zen 2, 19h = Zen 3 / Zen 4, 1Ah = Zen 5).
//
// Some model numbers are shared by two product lines built from the same
// silicon (19h A0h-AFh: EPYC 8004 Siena and EPYC 97x4 Bergamo; 19h 61h:
// Ryzen 7000 and EPYC 4004; 17h 01h/31h: EPYC and Threadripper). There the
// model name decides when it names the line (`hint`: a word of the name
// followed by a word starting with a prefix, e.g. "epyc" then "8..."), and
// the rule without a hint, listed last, says that the numbers cannot tell.
struct NameHint {
  const char* word;    // a normalised token that must appear ("epyc"); nullptr: no hint
  const char* prefix;  // the token after it must start with this ("8"); "" for any
};

struct GenerationRule {
  const char* vendor;
  int family;
  int model_lo;
  int model_hi;
  NameHint hint;
  CpuGeneration gen;
};

constexpr NameHint kAny = {nullptr, ""};

constexpr GenerationRule kGenerations[] = {
    // ---- AMD family 17h (Zen, Zen+, Zen 2)
    {"AuthenticAMD",
     0x17,
     0x01,
     0x01,
     {"threadripper", ""},
     {"AMD Ryzen Threadripper 1000 (Whitehaven, Zen)", "Ryzen Threadripper 1950X", 180, 32}},
    {"AuthenticAMD",
     0x17,
     0x01,
     0x01,
     {"ryzen", ""},
     {"AMD Ryzen 1000 (Summit Ridge, Zen)", "Ryzen 7 1800X", 95, 16}},
    // Without a name this is served to VMs, i.e. servers.
    {"AuthenticAMD", 0x17, 0x01, 0x01, kAny, {"AMD EPYC 7001 (Naples, Zen)", "EPYC 7601", 180, 64}},
    {"AuthenticAMD",
     0x17,
     0x31,
     0x31,
     {"threadripper", ""},
     {"AMD Ryzen Threadripper 3000 (Castle Peak, Zen 2)", "Ryzen Threadripper 3990X", 280, 128}},
    {"AuthenticAMD", 0x17, 0x31, 0x31, kAny, {"AMD EPYC 7002 (Rome, Zen 2)", "EPYC 7742", 225, 128}},
    {"AuthenticAMD", 0x17, 0x71, 0x71, kAny, {"AMD Ryzen 3000 (Matisse, Zen 2)", "Ryzen 9 3950X", 105, 32}},
    // ---- AMD family 19h (Zen 3, Zen 4, Zen 4c)
    {"AuthenticAMD", 0x19, 0x01, 0x01, kAny, {"AMD EPYC 7003 (Milan, Zen 3)", "EPYC 7763", 280, 128}},
    {"AuthenticAMD", 0x19, 0x10, 0x11, kAny, {"AMD EPYC 9004 (Genoa, Zen 4)", "EPYC 9654", 360, 192}},
    {"AuthenticAMD", 0x19, 0x21, 0x21, kAny, {"AMD Ryzen 5000 (Vermeer, Zen 3)", "Ryzen 9 5950X", 105, 32}},
    {"AuthenticAMD",
     0x19,
     0x61,
     0x61,
     {"epyc", ""},
     {"AMD EPYC 4004 (Raphael, Zen 4)", "EPYC 4564P", 170, 32}},
    {"AuthenticAMD", 0x19, 0x61, 0x61, kAny, {"AMD Ryzen 7000 (Raphael, Zen 4)", "Ryzen 9 7950X", 170, 32}},
    // Siena and Bergamo are the same Zen 4c silicon with the same family and
    // model numbers (19h A0h-AFh); only the name tells them apart.
    {"AuthenticAMD",
     0x19,
     0xA0,
     0xAF,
     {"epyc", "8"},
     {"AMD EPYC 8004 (Siena, Zen 4c)", "EPYC 8534P", 200, 128}},
    {"AuthenticAMD",
     0x19,
     0xA0,
     0xAF,
     {"epyc", "97"},
     {"AMD EPYC 97x4 (Bergamo, Zen 4c)", "EPYC 9754", 360, 256}},
    {"AuthenticAMD",
     0x19,
     0xA0,
     0xAF,
     kAny,
     {"AMD EPYC 8004 (Siena) or 97x4 (Bergamo), Zen 4c: family 19h model A0h-AFh is both and the model name "
      "does "
      "not say which, so the rule cannot tell them apart; it uses the higher W per thread of the two "
      "flagships",
      "EPYC 8534P", 200, 128}},
    // ---- AMD family 1Ah (Zen 5)
    {"AuthenticAMD", 0x1A, 0x00, 0x0F, kAny, {"AMD EPYC 9005 (Turin, Zen 5)", "EPYC 9755", 500, 256}},
    {"AuthenticAMD", 0x1A, 0x10, 0x1F, kAny, {"AMD EPYC 9005 (Turin Dense, Zen 5c)", "EPYC 9965", 500, 384}},
    {"AuthenticAMD",
     0x1A,
     0x44,
     0x44,
     kAny,
     {"AMD Ryzen 9000 (Granite Ridge, Zen 5)", "Ryzen 9 9950X", 170, 32}},
    // ---- Intel servers. Haswell-EX and Broadwell-EX share the EP parts' model
    // numbers: an "E7" in the name picks the EX line.
    {"GenuineIntel", 6, 0x2D, 0x2D, kAny, {"Intel Xeon E5 v1 (Sandy Bridge-EP)", "Xeon E5-2690 v1", 135, 16}},
    {"GenuineIntel", 6, 0x2F, 0x2F, kAny, {"Intel Xeon E7 v1 (Westmere-EX)", "Xeon E7-8870 v1", 130, 20}},
    {"GenuineIntel",
     6,
     0x3E,
     0x3E,
     {"xeon", "e7-"},
     {"Intel Xeon E7 v2 (Ivy Bridge-EX)", "Xeon E7-8890 v2", 155, 30}},
    {"GenuineIntel", 6, 0x3E, 0x3E, kAny, {"Intel Xeon E5 v2 (Ivy Bridge-EP)", "Xeon E5-2697 v2", 130, 24}},
    {"GenuineIntel",
     6,
     0x3F,
     0x3F,
     {"xeon", "e7-"},
     {"Intel Xeon E7 v3 (Haswell-EX)", "Xeon E7-8890 v3", 165, 36}},
    {"GenuineIntel", 6, 0x3F, 0x3F, kAny, {"Intel Xeon E5 v3 (Haswell-EP)", "Xeon E5-2699 v3", 145, 36}},
    {"GenuineIntel",
     6,
     0x4F,
     0x4F,
     {"xeon", "e7-"},
     {"Intel Xeon E7 v4 (Broadwell-EX)", "Xeon E7-8890 v4", 165, 48}},
    {"GenuineIntel", 6, 0x4F, 0x4F, kAny, {"Intel Xeon E5 v4 (Broadwell-EP)", "Xeon E5-2699 v4", 145, 44}},
    {"GenuineIntel", 6, 0x56, 0x56, kAny, {"Intel Xeon D-1500 (Broadwell-DE)", "Xeon D-1587", 65, 32}},
    {"GenuineIntel",
     6,
     0x55,
     0x55,
     kAny,
     {"Intel Xeon Scalable 1st/2nd gen (Skylake-SP/Cascade Lake)", "Xeon Platinum 8280", 205, 56}},
    {"GenuineIntel",
     6,
     0x6A,
     0x6A,
     kAny,
     {"Intel Xeon Scalable 3rd gen (Ice Lake-SP)", "Xeon Platinum 8380", 270, 80}},
    {"GenuineIntel",
     6,
     0x8F,
     0x8F,
     kAny,
     {"Intel Xeon Scalable 4th gen (Sapphire Rapids)", "Xeon Platinum 8480+", 350, 112}},
    {"GenuineIntel",
     6,
     0xCF,
     0xCF,
     kAny,
     {"Intel Xeon Scalable 5th gen (Emerald Rapids)", "Xeon Platinum 8592+", 350, 128}},
    {"GenuineIntel", 6, 0xAD, 0xAD, kAny, {"Intel Xeon 6 (Granite Rapids)", "Xeon 6980P", 500, 256}},
    // ---- Intel client (and the Xeon E3 / E parts built from the same dies)
    {"GenuineIntel",
     6,
     0x5E,
     0x5E,
     {"xeon", "e3-"},
     {"Intel Xeon E3 v5 (Skylake)", "Xeon E3-1280 v5", 80, 8}},
    {"GenuineIntel", 6, 0x5E, 0x5E, kAny, {"Intel Core 6th gen (Skylake-S)", "Core i7-6700K", 91, 8}},
    {"GenuineIntel",
     6,
     0x9E,
     0x9E,
     {"xeon", "e3-"},
     {"Intel Xeon E3 v6 (Kaby Lake)", "Xeon E3-1280 v6", 72, 8}},
    {"GenuineIntel",
     6,
     0x9E,
     0x9E,
     {"xeon", "e-"},
     {"Intel Xeon E-2100/2200 (Coffee Lake)", "Xeon E-2288G", 95, 16}},
    {"GenuineIntel", 6, 0x9E, 0x9E, kAny, {"Intel Core 8th/9th gen (Coffee Lake)", "Core i9-9900K", 95, 16}},
    {"GenuineIntel", 6, 0xA5, 0xA5, kAny, {"Intel Core 10th gen (Comet Lake)", "Core i9-10900K", 125, 20}},
    {"GenuineIntel", 6, 0xA7, 0xA7, kAny, {"Intel Core 11th gen (Rocket Lake)", "Core i9-11900K", 125, 16}},
    {"GenuineIntel", 6, 0x97, 0x97, kAny, {"Intel Core 12th gen (Alder Lake-S)", "Core i9-12900K", 125, 24}},
    {"GenuineIntel",
     6,
     0xB7,
     0xB7,
     kAny,
     {"Intel Core 13th/14th gen (Raptor Lake-S)", "Core i9-13900K", 125, 32}},
    {"GenuineIntel",
     6,
     0xBF,
     0xBF,
     kAny,
     {"Intel Core 13th/14th gen (Raptor Lake-S)", "Core i9-13900K", 125, 32}},
    {"GenuineIntel", 6, 0xAA, 0xAA, kAny, {"Intel Core Ultra (Meteor Lake)", "Core Ultra 7 155H", 28, 22}},
};

bool HintMatches(const NameHint& hint, const std::vector<std::string>& tokens) {
  if (hint.word == nullptr) return true;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (tokens[i] == hint.word && StartsWith(tokens[i + 1], hint.prefix)) return true;
  }
  // A hint with no prefix needs only the word ("epyc" anywhere in the name).
  return hint.prefix[0] == '\0' && std::find(tokens.begin(), tokens.end(), hint.word) != tokens.end();
}

// Words that say nothing about which part it is.
bool IsFillerToken(const std::string& t) {
  static const char* kFiller[] = {"cpu",      "processor", "@",      "with", "w/",  "radeon",
                                  "graphics", "vega",      "mobile", "gen",  "(r)", "(tm)"};
  for (const char* f : kFiller)
    if (t == f) return true;
  // "3.70ghz", "2.60GHz"
  if (EndsWith(t, "ghz") || EndsWith(t, "mhz")) return true;
  // "64-core", "16-cores", "8-core"
  if (EndsWith(t, "-core") || EndsWith(t, "-cores")) return true;
  // "12th", "13th" (as in "13th Gen Intel(R) Core(TM)")
  if (t.size() >= 3 && (EndsWith(t, "th") || EndsWith(t, "nd") || EndsWith(t, "rd") || EndsWith(t, "st")) &&
      std::all_of(t.begin(), t.end() - 2, [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return true;
  return false;
}

std::string FormatW(double w) { return FormatDouble(w) + " W"; }

// Intel renamed TDP "Processor Base Power" from 12th-gen Core (Alder Lake),
// 4th-gen Xeon Scalable and Xeon 6 on.
bool IsProcessorBasePowerEra(const std::string& model) {
  for (const char* p : {"Core i3-12", "Core i5-12", "Core i7-12", "Core i9-12", "Core i3-13", "Core i5-13",
                        "Core i7-13", "Core i9-13", "Core i3-14", "Core i5-14", "Core i7-14", "Core i9-14",
                        "Core Ultra", "Xeon w", "Xeon 6"})
    if (StartsWith(model, p)) return true;
  // Xeon Scalable 4th/5th gen: Platinum 84xx/85xx, Gold 64xx/65xx/54xx/55xx,
  // Silver 44xx/45xx, Bronze 34xx/35xx.
  for (const char* tier : {"Xeon Platinum ", "Xeon Gold ", "Xeon Silver ", "Xeon Bronze "}) {
    std::string t = tier;
    if (StartsWith(model, t) && model.size() > t.size() + 1) {
      char gen = model[t.size() + 1];
      if (gen == '4' || gen == '5') return true;
    }
  }
  return false;
}

}  // namespace

std::span<const CpuTdpRow> CpuTdpTable() { return std::span<const CpuTdpRow>(kRows); }

std::vector<std::string> NormalizeCpuModelTokens(const std::string& model_name) {
  std::string s = ToLower(model_name);
  // Trademarks glued to words: "Intel(R)", "Core(TM)", "Xeon(R)".
  for (const char* mark : {"(r)", "(tm)", "®", "™"}) {
    size_t pos;
    while ((pos = s.find(mark)) != std::string::npos) s.replace(pos, std::string(mark).size(), " ");
  }
  std::istringstream in(s);
  std::vector<std::string> raw;
  std::string t;
  while (in >> t) {
    if (!IsFillerToken(t)) raw.push_back(t);
  }
  // The first Xeon E3/E5/E7 generation prints its number three ways, none
  // with a version: "E31230" (Sandy Bridge E3), "E5-2670 0" (Sandy Bridge-EP)
  // and "E7- 4870" (Westmere-EX). All three read as "e3-1230 v1" and so on,
  // so a v1 row never matches a later version of the same number.
  std::vector<std::string> out;
  for (size_t i = 0; i < raw.size(); ++i) {
    const std::string& w = raw[i];
    bool e_family = w.size() >= 2 && w[0] == 'e' && (w[1] == '3' || w[1] == '5' || w[1] == '7');
    if (e_family && w.size() >= 6 && std::all_of(w.begin() + 2, w.begin() + 6, [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) != 0;
        })) {
      out.push_back(w.substr(0, 2) + "-" + w.substr(2));  // "e31230" -> "e3-1230"
      out.push_back("v1");
    } else if (e_family && w.size() == 3 && w[2] == '-' && i + 1 < raw.size()) {
      out.push_back(w + raw[++i]);  // "e7-" "4870" -> "e7-4870"
      out.push_back("v1");
    } else if (w == "0" && !out.empty() && StartsWith(out.back(), "e5-")) {
      out.push_back("v1");  // "e5-2670" "0"
    } else {
      out.push_back(w);
    }
  }
  return out;
}

std::string CpuTdpRowCitation(const CpuTdpRow& row) {
  std::string model = row.model;
  bool amd = StartsWith(model, "EPYC") || StartsWith(model, "Ryzen");
  if (amd) return "AMD product page 'AMD " + model + "', specifications: Default TDP";
  // Intel's pages name the first E3/E5/E7 generation without a version.
  if (EndsWith(model, " v1")) model.resize(model.size() - 3);
  return "Intel ARK 'Intel " + model + " Processor' product specifications: " +
         (IsProcessorBasePowerEra(model) ? "Processor Base Power" : "TDP");
}

const CpuTdpRow* FindCpuTdpRow(const std::string& model_name) {
  // Row tokens are computed once (thread-safe static init).
  static const std::vector<std::vector<std::string>> kRowTokens = [] {
    std::vector<std::vector<std::string>> v;
    for (const CpuTdpRow& row : kRows) v.push_back(NormalizeCpuModelTokens(row.model));
    return v;
  }();
  std::vector<std::string> name = NormalizeCpuModelTokens(model_name);
  const CpuTdpRow* best = nullptr;
  size_t best_len = 0;
  for (size_t r = 0; r < std::size(kRows); ++r) {
    const CpuTdpRow& row = kRows[r];
    const std::vector<std::string>& key = kRowTokens[r];
    if (key.empty() || key.size() > name.size()) continue;
    for (size_t i = 0; i + key.size() <= name.size(); ++i) {
      if (std::equal(key.begin(), key.end(), name.begin() + static_cast<std::ptrdiff_t>(i))) {
        if (key.size() > best_len) {
          best = &row;
          best_len = key.size();
        }
        break;
      }
    }
  }
  return best;
}

const CpuGeneration* FindCpuGeneration(const std::string& vendor, int family, int model,
                                       const std::string& model_name) {
  std::vector<std::string> tokens = NormalizeCpuModelTokens(model_name);
  for (const GenerationRule& r : kGenerations) {
    if (vendor == r.vendor && family == r.family && model >= r.model_lo && model <= r.model_hi &&
        HintMatches(r.hint, tokens))
      return &r.gen;
  }
  return nullptr;
}

CpuTdpResolution ResolveCpuTdp(const CpuInfo& info, std::optional<double> override_w) {
  CpuTdpResolution r;
  const int threads = std::max(1, info.threads);
  const int sockets = std::max(1, info.sockets);
  if (override_w) {
    r.tdp_w = *override_w;
    r.method = kTdpMethodOverride;
    r.explanation = "TDP " + FormatW(*override_w) +
                    " given by --cpu-tdp-w / WATTLAB_CPU_TDP_W (all CPUs this system sees)";
    return r;
  }
  if (const CpuTdpRow* row = FindCpuTdpRow(info.model_name)) {
    r.method = kTdpMethodTable;
    if (info.hypervisor && row->threads > 0 && threads < row->threads * sockets) {
      // A VM sees a slice of the socket: charge it the per-thread share.
      r.tdp_w = row->tdp_w * threads / row->threads;
      r.explanation = "TDP " + FormatW(r.tdp_w) + " = table row '" + row->model + "' " + FormatW(row->tdp_w) +
                      " per socket / " + std::to_string(row->threads) + " threads x " +
                      std::to_string(threads) + " threads this VM sees (source: " + CpuTdpRowCitation(*row) +
                      ")";
    } else {
      r.tdp_w = row->tdp_w * sockets;
      r.explanation = "TDP " + FormatW(r.tdp_w) + " from table row '" + row->model + "' " +
                      FormatW(row->tdp_w) + " x " + std::to_string(sockets) +
                      (sockets == 1 ? " socket" : " sockets") + " (source: " + CpuTdpRowCitation(*row) + ")";
    }
    return r;
  }
  if (const CpuGeneration* gen = FindCpuGeneration(info.vendor, info.family, info.model, info.model_name)) {
    r.method = kTdpMethodGeneration;
    r.tdp_w = gen->WattsPerThread() * threads;
    char fm[64];
    std::snprintf(fm, sizeof fm, "family 0x%X model 0x%X", static_cast<unsigned>(info.family),
                  static_cast<unsigned>(info.model));
    r.explanation = "CPU '" + info.model_name + "' is not in the table; " + fm + " is " + gen->name +
                    ": TDP " + FormatW(r.tdp_w) + " = " + FormatFixed(gen->WattsPerThread(), 3) +
                    " W per thread (" + gen->reference + " " + FormatW(gen->reference_tdp_w) + " / " +
                    std::to_string(gen->reference_threads) + " threads) x " + std::to_string(threads) +
                    " threads";
    return r;
  }
  r.method = kTdpMethodDefault;
  r.tdp_w = kDefaultWattsPerThread * threads;
  r.explanation = "CPU '" + info.model_name + "' is neither in the table nor a known generation; TDP " +
                  FormatW(r.tdp_w) + " = " + FormatW(kDefaultWattsPerThread) +
                  " per thread (CodeCarbon's fallback) x " + std::to_string(threads) +
                  " threads; set --cpu-tdp-w for a better figure";
  return r;
}

}  // namespace wattlab
