dofile(os.getenv("MT_LIB"))
local conn = open()
-- forged X-Yubin-* fields are deleted
message(conn, "<a@client.example.net>", "<taro@example.jp>",
        {{"X-Yubin-Spam", "no"}, {"Subject", "hello"}, {"X-Yubin-Spam", "no"}}, "hi\r\n")
reply_is(conn, SMFIR_CONTINUE, "ordinary message accepted")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Yubin-Spam"), "forged X-Yubin-Spam deleted")
check(not mt.eom_check(conn, MT_HDRADD), "nothing added to an ordinary message")

-- state is reset by ABORT: the next message has no forged fields to delete
check(mt.mailfrom(conn, "<a@client.example.net>") == nil, "MAIL 2")
check(mt.rcptto(conn, "<taro@example.jp>") == nil, "RCPT 2")
check(mt.header(conn, "X-Yubin-Rule", "forged") == nil, "forged header 2")
check(mt.abort(conn) == nil, "abort")
message(conn, "<a@client.example.net>", "<taro@example.jp>", {{"Subject", "hello again"}}, "hi\r\n")
reply_is(conn, SMFIR_CONTINUE, "message after abort accepted")
check(not mt.eom_check(conn, MT_HDRDELETE), "nothing left over from the aborted message")

-- the default rule rejects 未承諾広告 (ISO-2022-JP encoded-word)
message(conn, "<a@client.example.net>", "<taro@example.jp>",
        {{"Subject", "=?ISO-2022-JP?B?GyRCTCQ+NUJ6OS05cCIoGyhC?="}}, "buy\r\n")
reply_is(conn, SMFIR_REPLYCODE, "未承諾広告 refused")
check(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
      "unsolicited advertisement (Japanese UCE marker in Subject)"), "550 5.7.1 with the rule's text")

-- an ordinary Japanese Subject is untouched
message(conn, "<a@client.example.net>", "<taro@example.jp>",
        {{"Subject", "=?ISO-2022-JP?B?GyRCMnFENSROJCpDTiRpJDsbKEI=?="}}, "\r\n")
reply_is(conn, SMFIR_CONTINUE, "ordinary Japanese message accepted")
check(not mt.eom_check(conn, MT_HDRCHANGE) and not mt.eom_check(conn, MT_HDRADD), "and untouched")
mt.disconnect(conn)
