-- Shared by the miltertest scripts: connect to the milter named by
-- $MILTER_SOCKET, negotiate, and check helpers that fail the script loudly.
sock = os.getenv("MILTER_SOCKET")

function check(cond, what)
  if not cond then
    error("FAILED: " .. what)
  end
  mt.echo("ok: " .. what)
end

function reply_is(conn, want, what)
  check(mt.getreply(conn) == want, what .. " (reply " .. tostring(mt.getreply(conn)) .. ")")
end

-- A connection as Postfix opens one: negotiate, then connect info.
function open(client_ip)
  local conn = mt.connect(sock, 10, 0.2)
  check(conn ~= nil, "connect to " .. sock)
  check(mt.conninfo(conn, "client.example.net", client_ip or "198.51.100.7") == nil, "conninfo")
  return conn
end

-- Sends what the milter negotiated to receive, skipping what it did not.
function maybe_eoh(conn)
  if not mt.test_option(conn, SMFIP_NOEOH) then mt.eoh(conn) end
end

function message(conn, from, rcpt, headers, body)
  check(mt.mailfrom(conn, from) == nil, "MAIL " .. from)
  reply_is(conn, SMFIR_CONTINUE, "MAIL accepted")
  check(mt.rcptto(conn, rcpt) == nil, "RCPT " .. rcpt)
  reply_is(conn, SMFIR_CONTINUE, "RCPT accepted")
  for _, h in ipairs(headers) do
    check(mt.header(conn, h[1], h[2]) == nil, "header " .. h[1])
  end
  maybe_eoh(conn)
  if body ~= nil and not mt.test_option(conn, SMFIP_NOBODY) then
    check(mt.bodystring(conn, body) == nil, "body")
  end
  check(mt.eom(conn) == nil, "EOM")
end
