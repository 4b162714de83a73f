// What the delivery agent needs to know about, and add to, one message.
//
// SECURITY: the message is hostile. It is parsed in one bounded forward pass
// through mime::HeaderReader (header block at most mime::Limits bytes and
// fields); past a bound, loop detection sees only what was read. The message
// itself is never changed except for the documented additions in front of it
// (Return-Path, Delivered-To, X-Yubin-Filter) and the tag prefix of the first
// Subject; envelope text put into those headers is cleaned of control bytes
// so a hostile address cannot add header lines.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/mime/limits.hpp"

namespace yubin::lda {

struct MessageInfo {
    std::string_view message;          // the input without a leading "From " line
    std::string_view eol = "\n";       // "\r\n" when the first header line uses CRLF
    bool has_return_path = false;      // in the leading block Postfix prepends
    bool has_delivered_to = false;     // "Delivered-To: <recipient>" in that block
    bool loop = false;                 // a Delivered-To for the recipient below it
    std::size_t subject_value = std::string_view::npos;  // offset of the first Subject value
};

// Strips a leading mbox "From " line (local(8) and pipe flag F add one) and
// inspects the header. The "leading block" is the run of Return-Path,
// X-Original-To and Delivered-To fields at the very top, which is where
// Postfix's pipe flags R, O and D put them: a Delivered-To for the
// recipient there is Postfix's own; one anywhere else means the message has
// been delivered to this recipient before and came back (a mail loop).
[[nodiscard]] MessageInfo inspect_message(std::string_view raw, std::string_view recipient,
                                          const mime::Limits& limits = {});

// Envelope text made safe for a header: control bytes dropped, cut at 998.
[[nodiscard]] std::string header_safe(std::string_view s);

// The header lines to put in front of the message: Return-Path unless
// present, Delivered-To unless present (and unless recipient is empty).
[[nodiscard]] std::string added_headers(const MessageInfo& info, std::string_view sender,
                                        std::string_view recipient);

// The pieces of the delivered file, in order, viewing `info.message`,
// `prefix` and `subject_tag` (which must outlive the result). With a
// subject_tag, "<tag> " is inserted at the start of the first Subject's
// value; without a Subject the tag goes nowhere (the X-Yubin-Filter header
// in prefix still marks the message).
[[nodiscard]] std::vector<std::string_view> message_parts(const MessageInfo& info,
                                                         std::string_view prefix,
                                                         std::string_view subject_tag);

// Address part of a Delivered-To value: trimmed, one pair of <> removed.
[[nodiscard]] std::string_view bare_address(std::string_view value);

}  // namespace yubin::lda
