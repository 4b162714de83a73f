// Throughput of yubin::rules::classify: messages/s over a set of files read
// into memory, and MB/s of header+body scanning with a body rule.
// Usage: bench_filter SECONDS FILE...
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/rules/classify.hpp"

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: bench_filter SECONDS FILE...\n");
        return 2;
    }
    const double secs = std::atof(argv[1]);
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
        const auto t0 = std::chrono::steady_clock::now();
        double el = 0;
        while (el < secs) {
            for (const auto& m : msgs) {
                hits += yubin::rules::classify(*rs, m).matched ? 1 : 0;
                ++n;
                done_bytes += m.size();
            }
            el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        }
        std::printf("%s %.0f msg/s %.1f MB/s hits=%zu/%zu\n", rs == &defaults ? "subject" : "body",
                    n / el, done_bytes / el / 1e6, hits / (n / msgs.size()), msgs.size());
    }
    return 0;
}
