#include "lda/message.hpp"

#include "core/mime/header.hpp"
#include "core/util/strings.hpp"

namespace yubin::lda {
namespace {

constexpr std::size_t kMaxHeaderLine = 998;  // RFC 5322 line limit for what we write

bool is_leading_field(std::string_view name) {
    return iequals(name, "Return-Path") || iequals(name, "X-Original-To") ||
           iequals(name, "Delivered-To");
}

}  // namespace

std::string_view bare_address(std::string_view value) {
    value = trim(value);
    if (value.size() >= 2 && value.front() == '<' && value.back() == '>')
        value = trim(value.substr(1, value.size() - 2));
    return value;
}

MessageInfo inspect_message(std::string_view raw, std::string_view recipient,
                            const mime::Limits& limits) {
    MessageInfo info;
    if (raw.starts_with("From ")) {
        auto nl = raw.find('\n');
        raw = nl == std::string_view::npos ? std::string_view() : raw.substr(nl + 1);
    }
    info.message = raw;
    auto first_nl = raw.find('\n');
    if (first_nl != std::string_view::npos && first_nl > 0 && raw[first_nl - 1] == '\r')
        info.eol = "\r\n";

    mime::HeaderReader reader(raw, limits);
    mime::HeaderField f;
    bool leading = true;
    while (reader.next(f)) {
        if (leading && !is_leading_field(f.name)) leading = false;
        if (iequals(f.name, "Delivered-To")) {
            bool ours = !recipient.empty() && iequals(bare_address(mime::unfold(f.value)), recipient);
            if (!ours) continue;
            if (leading && !info.has_delivered_to) {
                info.has_delivered_to = true;
            } else {
                info.loop = true;
            }
        } else if (leading && iequals(f.name, "Return-Path")) {
            info.has_return_path = true;
        } else if (iequals(f.name, "Subject") && info.subject_value == std::string_view::npos) {
            std::size_t off = static_cast<std::size_t>(f.value.data() - raw.data());
            // Past the blanks after the colon, so the tag reads "Subject: TAG old".
            while (off < raw.size() && (raw[off] == ' ' || raw[off] == '\t')) ++off;
            info.subject_value = off;
        }
    }
    return info;
}

std::string header_safe(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) continue;
        out += c;
        if (out.size() >= kMaxHeaderLine - 20) break;
    }
    return out;
}

std::string added_headers(const MessageInfo& info, std::string_view sender,
                          std::string_view recipient) {
    std::string out;
    if (!info.has_return_path) {
        out += "Return-Path: <";
        out += header_safe(sender);
        out += ">";
        out += info.eol;
    }
    if (!info.has_delivered_to && !recipient.empty()) {
        out += "Delivered-To: ";
        out += header_safe(recipient);
        out += info.eol;
    }
    return out;
}

std::vector<std::string_view> message_parts(const MessageInfo& info, std::string_view prefix,
                                            std::string_view subject_tag) {
    std::vector<std::string_view> parts;
    if (!prefix.empty()) parts.push_back(prefix);
    if (subject_tag.empty() || info.subject_value == std::string_view::npos) {
        parts.push_back(info.message);
        return parts;
    }
    parts.push_back(info.message.substr(0, info.subject_value));
    parts.push_back(subject_tag);
    parts.push_back(" ");
    parts.push_back(info.message.substr(info.subject_value));
    return parts;
}

}  // namespace yubin::lda
