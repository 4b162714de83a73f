#include "core/mime/header.hpp"

#include <algorithm>

#include "core/util/strings.hpp"

namespace yubin::mime {
namespace {

// End of the line starting at `pos` (index of its LF, or `end`).
std::size_t line_end(std::string_view s, std::size_t pos, std::size_t end) {
    const std::size_t lf = s.find('\n', pos);
    return (lf == std::string_view::npos || lf > end) ? end : lf;
}

bool is_blank_line(std::string_view line) { return line.empty() || line == "\r"; }

bool valid_name(std::string_view n) {
    if (n.empty()) return false;
    // One unsigned comparison per byte: printable ASCII is 0x21..0x7E. The
    // colon cannot occur, the name ends before it.
    return std::all_of(n.begin(), n.end(), [](char c) {
        return static_cast<unsigned char>(static_cast<unsigned char>(c) - 0x21) < 0x5E;
    });
}

}  // namespace

HeaderReader::HeaderReader(std::string_view message, const Limits& limits)
    : msg_(message),
      end_(std::min(message.size(), limits.max_header_bytes)),
      max_fields_(limits.max_header_fields) {
    // An mbox "From " envelope line is not a field.
    if (msg_.substr(0, 5) == "From ") {
        const std::size_t e = line_end(msg_, 0, end_);
        pos_ = e < end_ ? e + 1 : end_;
    }
}

bool HeaderReader::next(HeaderField& field) {
    while (!done_) {
        if (pos_ >= end_) {
            if (end_ < msg_.size()) truncated_ = true;
            done_ = true;
            break;
        }
        const std::size_t start = pos_;
        std::size_t e = line_end(msg_, start, end_);
        std::string_view line = msg_.substr(start, e - start);
        pos_ = e < end_ ? e + 1 : end_;
        if (is_blank_line(line)) {
            done_ = true;
            break;
        }
        if (line[0] == ' ' || line[0] == '\t') continue;  // continuation of a skipped line
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view name = line.substr(0, colon);
        while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
        // Take the continuation lines.
        while (pos_ < end_ && (msg_[pos_] == ' ' || msg_[pos_] == '\t')) {
            e = line_end(msg_, pos_, end_);
            pos_ = e < end_ ? e + 1 : end_;
        }
        if (!valid_name(name)) continue;
        if (fields_ >= max_fields_) {
            truncated_ = true;
            done_ = true;
            break;
        }
        ++fields_;
        std::size_t vend = e;
        if (vend > start + colon + 1 && msg_[vend - 1] == '\r') --vend;
        field.name = name;
        field.value = msg_.substr(start + colon + 1, vend - (start + colon + 1));
        return true;
    }
    return false;
}

std::string unfold(std::string_view value) {
    std::string out;
    unfold_into(value, out);
    return out;
}

void unfold_into(std::string_view value, std::string& out) {
    value = trim(value);  // trim() counts CR and LF as white space too
    out.clear();
    out.reserve(value.size());
    if (value.find('\r') == std::string_view::npos) {
        // Copy the runs between LFs whole (memchr): most values have one
        // or none.
        std::size_t run = 0;
        for (std::size_t i = value.find('\n'); i != std::string_view::npos;
             i = value.find('\n', i + 1)) {
            out.append(value.data() + run, i - run);
            run = i + 1;
        }
        out.append(value.data() + run, value.size() - run);
        return;
    }
    for (char c : value) {
        if (c != '\r' && c != '\n') out.push_back(c);
    }
}

std::vector<std::string> header_values(std::string_view message, std::string_view name,
                                       const Limits& limits) {
    std::vector<std::string> out;
    HeaderReader r(message, limits);
    HeaderField f;
    while (r.next(f)) {
        if (iequals(f.name, name)) out.push_back(unfold(f.value.substr(0, limits.max_field_bytes)));
    }
    return out;
}

}  // namespace yubin::mime
