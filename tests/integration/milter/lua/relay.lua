dofile(os.getenv("MT_LIB"))
local conn = open()
check(mt.mailfrom(conn, "<a@client.example.net>") == nil, "MAIL")
reply_is(conn, SMFIR_CONTINUE, "MAIL accepted")
for _, r in ipairs({"<victim@relay.example.net>", "<victim%relay.example.net@example.jp>",
                    "<\"victim@relay.example.net\"@example.jp>", "<@example.jp:victim@relay.example.net>",
                    "<relay.example.net!victim@example.jp>", "<victim\\@relay.example.net@example.jp>",
                    "victim@relay.example.net", "<victim@[127.0.0.1]>"}) do
  check(mt.rcptto(conn, r) == nil, "RCPT " .. r)
  reply_is(conn, SMFIR_REPLYCODE, "relay refused: " .. r)
end
check(mt.rcptto(conn, "<Taro@EXAMPLE.JP.>") == nil, "RCPT local")
reply_is(conn, SMFIR_CONTINUE, "local recipient accepted")
check(mt.abort(conn) == nil, "abort")

-- the same client after AUTH may relay
mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "taro@example.jp")
check(mt.mailfrom(conn, "<taro@example.jp>") == nil, "MAIL after AUTH")
check(mt.rcptto(conn, "<victim@relay.example.net>") == nil, "RCPT relay after AUTH")
reply_is(conn, SMFIR_CONTINUE, "authenticated client may relay")
mt.disconnect(conn)

-- a trusted network may relay
conn = open("192.0.2.44")
check(mt.mailfrom(conn, "<a@client.example.net>") == nil, "MAIL from trusted")
check(mt.rcptto(conn, "<victim@relay.example.net>") == nil, "RCPT from trusted")
reply_is(conn, SMFIR_CONTINUE, "trusted network may relay")
mt.disconnect(conn)
