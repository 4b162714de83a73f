// Throughput of yubin::rules::classify: messages/s over a set of files read
// into memory, and MB/s of header+body scanning with a body rule.
//
// Usage: bench_filter SECONDS FILE...   run each rule set for SECONDS
//        bench_filter xN FILE...        exactly N passes (for callgrind)
//
// Time is this process's CPU time, as reference.py measures its own: on a
// machine shared with other work, wall time mostly measures the others.
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/rules/classify.hpp"

namespace {

double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: bench_filter SECONDS|xPASSES FILE...\n");
        return 2;
    }
    const bool fixed = argv[1][0] == 'x';
    const double secs = fixed ? 0 : std::atof(argv[1]);
    const long passes = fixed ? std::atol(argv[1] + 1) : 0;
    std::vector<std::string> msgs;
    std::size_t bytes = 0;
    for (int i = 2; i < argc; ++i) {
        std::ifstream in(argv[i], std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        msgs.push_back(ss.str());
        bytes += msgs.back().size();
    }
    auto body = yubin::rules::RuleSet::parse(
        "rule s\ntarget=subject\nliteral=未承諾広告\naction=reject\n"
        "rule b\ntarget=body\nliteral=未承諾広告\nscore=1\n", "bench");
    if (!body) return 2;
    const yubin::rules::RuleSet defaults = yubin::rules::RuleSet::defaults();
    for (const yubin::rules::RuleSet* rs : {&defaults, static_cast<const yubin::rules::RuleSet*>(&*body)}) {
        std::size_t n = 0, hits = 0, done_bytes = 0;
        long pass = 0;
        const double t0 = cpu_seconds();
        double el = 0;
        while (fixed ? pass < passes : el < secs) {
            for (const auto& m : msgs) {
                hits += yubin::rules::classify(*rs, m).matched ? 1 : 0;
                ++n;
                done_bytes += m.size();
            }
            ++pass;
            el = cpu_seconds() - t0;
        }
        std::printf("%s %.0f msg/s %.1f MB/s hits=%zu/%zu\n", rs == &defaults ? "subject" : "body",
                    n / el, done_bytes / el / 1e6, hits / (n / msgs.size()), msgs.size());
    }
    return 0;
}
