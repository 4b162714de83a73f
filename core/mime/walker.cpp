#include "core/mime/walker.hpp"

#include <algorithm>

#include "core/charset/charset.hpp"
#include "core/mime/header.hpp"
#include "core/mime/params.hpp"
#include "core/mime/transfer.hpp"
#include "core/util/strings.hpp"

namespace yubin::mime {
namespace {

struct Entity {
    ContentType ct;
    std::string encoding;  // content-transfer-encoding, lower case
};

Entity parse_entity_header(std::string_view header, const Limits& limits) {
    Entity e;
    Limits l = limits;
    l.max_header_bytes = header.size();
    HeaderReader r(header, l);
    HeaderField f;
    while (r.next(f)) {
        if (iequals(f.name, "content-type")) {
            e.ct = parse_content_type(unfold(f.value));
        } else if (iequals(f.name, "content-transfer-encoding")) {
            e.encoding = to_lower(trim(unfold(f.value)));
        }
    }
    return e;
}

enum class Mode { Header, Text, Skip };

struct Frame {
    std::string boundary;
    std::size_t depth;  // of the multipart entity that declared it
};

class Walker {
public:
    Walker(std::string_view msg, const Limits& limits) : msg_(msg), limits_(limits) {}

    WalkResult run() {
        begin_entity(0, 0, limits_.max_header_bytes);
        std::size_t pos = 0;
        while (pos < msg_.size() && !stop_) {
            std::size_t lf = msg_.find('\n', pos);
            const std::size_t next = lf == std::string_view::npos ? msg_.size() : lf + 1;
            std::string_view line = msg_.substr(pos, (lf == std::string_view::npos ? msg_.size() : lf) - pos);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (line.size() >= 2 && line[0] == '-' && line[1] == '-' && !stack_.empty() &&
                boundary_line(line, pos, next)) {
                pos = next;
                continue;
            }
            if (mode_ == Mode::Header) header_line(line, next);
            pos = next;
        }
        if (!stop_) end_entity(msg_.size());
        return std::move(result_);
    }

private:
    void begin_entity(std::size_t at, std::size_t depth, std::size_t max_header) {
        if (result_.entities >= limits_.max_mime_parts) {
            result_.truncated = true;
            stop_ = true;
            return;
        }
        ++result_.entities;
        mode_ = Mode::Header;
        header_start_ = at;
        depth_ = depth;
        max_header_ = max_header;
    }

    void header_line(std::string_view line, std::size_t next) {
        if (next - header_start_ > max_header_) {
            result_.truncated = true;
            mode_ = Mode::Skip;
            return;
        }
        if (!line.empty()) return;
        const Entity e = parse_entity_header(msg_.substr(header_start_, next - header_start_), limits_);
        const std::string& t = e.ct.type;
        if (istarts_with(t, "multipart/")) {
            if (e.ct.boundary.empty() || e.ct.boundary.size() > limits_.max_boundary_bytes) {
                mode_ = Mode::Skip;
            } else if (depth_ + 1 >= limits_.max_mime_depth) {
                result_.truncated = true;
                mode_ = Mode::Skip;
            } else {
                stack_.push_back(Frame{e.ct.boundary, depth_});
                mode_ = Mode::Skip;  // the preamble
            }
            return;
        }
        if (t == "message/rfc822" || t == "message/global") {
            if (depth_ + 1 >= limits_.max_mime_depth) {
                result_.truncated = true;
                mode_ = Mode::Skip;
                return;
            }
            begin_entity(next, depth_ + 1, limits_.max_part_header_bytes);
            return;
        }
        if (t.empty() || istarts_with(t, "text/")) {
            mode_ = Mode::Text;
            body_start_ = next;
            entity_ = e;
            if (entity_.ct.type.empty()) entity_.ct.type = "text/plain";
            return;
        }
        mode_ = Mode::Skip;
    }

    // Handles a "--..." line if it is one of the open boundaries.
    bool boundary_line(std::string_view line, std::size_t line_start, std::size_t next) {
        for (std::size_t k = stack_.size(); k-- > 0;) {
            const std::string& b = stack_[k].boundary;
            if (line.size() < 2 + b.size() || line.substr(2, b.size()) != b) continue;
            const std::string_view rest = line.substr(2 + b.size());
            const bool close = rest.substr(0, 2) == "--";
            if (!close && !trim(rest).empty()) continue;
            end_entity(line_start);
            const std::size_t depth = stack_[k].depth;
            stack_.resize(k + 1);
            if (close) {
                stack_.pop_back();
                mode_ = Mode::Skip;  // the epilogue
            } else {
                begin_entity(next, depth + 1, limits_.max_part_header_bytes);
            }
            return true;
        }
        return false;
    }

    void end_entity(std::size_t end) {
        if (mode_ != Mode::Text) return;
        mode_ = Mode::Skip;
        // The line break before a boundary belongs to the boundary.
        if (end > body_start_ && msg_[end - 1] == '\n') --end;
        if (end > body_start_ && msg_[end - 1] == '\r') --end;
        std::string_view body = msg_.substr(body_start_, end > body_start_ ? end - body_start_ : 0);
        const std::size_t room = limits_.max_body_text_bytes - std::min(limits_.max_body_text_bytes, used_);
        if (body.size() > room) {
            body = body.substr(0, room);
            result_.truncated = true;
        }
        if (body.empty() && room == 0) return;
        std::string bytes;
        if (entity_.encoding == "base64") {
            bytes = decode_base64(body);
        } else if (entity_.encoding == "quoted-printable") {
            bytes = decode_quoted_printable(body);
        } else {
            bytes = std::string(body);
        }
        used_ += body.size();
        TextPart p;
        p.content_type = entity_.ct.type;
        p.text = charset::to_utf8(bytes, entity_.ct.charset);
        p.depth = depth_;
        result_.parts.push_back(std::move(p));
    }

    std::string_view msg_;
    const Limits& limits_;
    WalkResult result_;
    std::vector<Frame> stack_;
    Mode mode_ = Mode::Header;
    Entity entity_;
    std::size_t header_start_ = 0;
    std::size_t body_start_ = 0;
    std::size_t depth_ = 0;
    std::size_t max_header_ = 0;
    std::size_t used_ = 0;
    bool stop_ = false;
};

}  // namespace

ContentType parse_content_type(std::string_view value) {
    ContentType ct;
    ct.type = to_lower(value_before_parameters(value));
    const auto params = parse_parameters(value);
    // The boundary stays bytes: it is compared with body lines as they are.
    if (const Parameter* b = find_parameter(params, "boundary")) ct.boundary = b->value;
    if (const Parameter* c = find_parameter(params, "charset")) ct.charset = c->value;
    return ct;
}

WalkResult text_parts(std::string_view message, const Limits& limits) {
    Walker w(message, limits);
    return w.run();
}

}  // namespace yubin::mime
