#include "ctl/check_relay.hpp"

namespace yubin::ctl::check {

std::string address_literal(const std::string& ip) {
    if (ip.find(':') != std::string::npos) return "[IPv6:" + ip + "]";
    return "[" + ip + "]";
}

std::vector<RelayProbe> relay_probes(const RelayTarget& t) {
    const std::string u = "relaytest";
    const std::string& r = t.relay_domain;
    const std::string ur = u + "@" + r;
    const std::string foreign_from = "<spamtest@" + r + ">";
    std::vector<RelayProbe> p;
    auto add = [&](std::string name, std::string from, std::string rcpt) {
        for (const auto& x : p)
            if (x.mail_from == from && x.rcpt_to == rcpt) return;
        p.push_back({std::move(name), std::move(from), std::move(rcpt)});
    };
    auto to = [&](std::string name, std::string rcpt) { add(std::move(name), foreign_from, std::move(rcpt)); };

    // Senders: the recipient stays plainly foreign.
    to("unauthenticated foreign sender and recipient", "<" + ur + ">");
    add("empty sender (bounce)", "<>", "<" + ur + ">");
    add("sender without domain", "<spamtest>", "<" + ur + ">");
    // Recipient spellings that must not change the destination.
    to("recipient without angle brackets", ur);
    std::string upper = "<" + ur + ">";
    for (auto& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    to("recipient in upper case", upper);
    to("recipient domain with a trailing dot", "<" + ur + ".>");
    // Quoted local parts: the foreign address hidden inside a quoted string.
    to("quoted local part with @", "<\"" + ur + "\">");
    to("quoted local part with %", "<\"" + u + "%" + r + "\">");
    to("quoted local part with !", "<\"" + r + "!" + u + "\">");
    // UUCP bang path.
    to("bang path", "<" + r + "!" + u + ">");
    // A foreign IP literal.
    to("IP literal of a foreign host", "<" + u + "@[192.0.2.1]>");

    auto via = [&](const std::string& label, const std::string& d) {
        // d is a destination the server may consider its own.
        to("percent hack at " + label, "<" + u + "%" + r + "@" + d + ">");
        to("double percent hack at " + label, "<" + u + "%" + r + "%" + d + "@" + d + ">");
        to("quoted local part with @ at " + label, "<\"" + ur + "\"@" + d + ">");
        to("quoted local part with % at " + label, "<\"" + u + "%" + r + "\"@" + d + ">");
        to("quoted local part with ! at " + label, "<\"" + r + "!" + u + "\"@" + d + ">");
        to("two @ signs, " + label + " last", "<" + ur + "@" + d + ">");
        to("escaped @ at " + label, "<" + u + "\\@" + r + "@" + d + ">");
        to("source route via " + label, "<@" + d + ":" + ur + ">");
        to("bang path at " + label, "<" + r + "!" + u + "@" + d + ">");
    };
    if (!t.server_ip.empty()) {
        std::string lit = address_literal(t.server_ip);
        add("sender at the server's IP literal", "<spamtest@" + lit + ">", "<" + ur + ">");
        via("the server's IP literal", lit);
    }
    if (!t.server_name.empty()) {
        add("sender at the server's name", "<spamtest@" + t.server_name + ">", "<" + ur + ">");
        via("the server's name", t.server_name);
    }
    if (!t.local_domain.empty()) {
        const std::string& l = t.local_domain;
        add("local sender, foreign recipient", "<spamtest@" + l + ">", "<" + ur + ">");
        add("local postmaster as sender", "<postmaster@" + l + ">", "<" + ur + ">");
        via("the local domain", l);
        if (!t.server_name.empty())
            to("source route with two hops", "<@" + l + ",@" + t.server_name + ":" + ur + ">");
        to("local domain as a prefix of a foreign domain", "<" + u + "@" + l + "." + r + ">");
        to("foreign domain ending in the local domain's name", "<" + u + "@relay-" + l + ">");
    }
    return p;
}

}  // namespace yubin::ctl::check
