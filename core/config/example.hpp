// The commented example yubin.cf (contrib/yubin.cf, `yubinctl config
// --example`), generated from the schema table so that it can never disagree
// with what the programs accept.
#pragma once

#include <string>

namespace yubin::config {

// Every parameter of schema(), sorted by name: its type, allowed values or
// range, its documentation wrapped at 78 columns, and a commented-out
// "#name = default" line. The result parses as a yubin.cf that sets nothing.
std::string example_file();

}  // namespace yubin::config
