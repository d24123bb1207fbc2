# ruby-saml SP for the mitid-harness interop tier (one process per row), on WEBrick.
#
# Set up as ruby-saml's README shows: the IdP settings parsed from the IdP's metadata
# (OneLogin::RubySaml::IdpMetadataParser#parse), our entity ID, ACS URL, certificate and private
# key, signed AuthnRequests on HTTP-Redirect (security[:authn_requests_signed], RSA-SHA256),
# OneLogin::RubySaml::Authrequest#create for the login redirect, Response#is_valid? and #nameid
# at the ACS, OneLogin::RubySaml::Metadata#generate for the SP metadata. What NemLog-in forces
# on everybody: the assertion comes encrypted (want_assertions_encrypted puts the encryption
# KeyDescriptor into the metadata; the private key decrypts), the Response is unsigned.
#
# The library is the one Debian ships (ruby-saml, bookworm: 1.13.0-1+deb12u1, the upstream
# 1.13.0 with the CVE-2024-45409 fix backported); RubyGems is not reachable from this tier.
#
# Environment: PORT, ROW (dir with sp.key/sp.crt), IDP_METADATA (file), CONFIG (default).
# Routes: /login, /acs (HTTP-POST), /whoami (200 "user=<NameID>" or 401), /metadata.
require 'onelogin/ruby-saml'
require 'webrick'
require 'securerandom'

PORT = Integer(ENV.fetch('PORT'))
ROW = ENV.fetch('ROW')
BASE = "http://127.0.0.1:#{PORT}"
PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'

def saml_settings
  settings = OneLogin::RubySaml::IdpMetadataParser.new.parse(File.read(ENV.fetch('IDP_METADATA')))
  settings.sp_entity_id = "#{BASE}/metadata"
  settings.assertion_consumer_service_url = "#{BASE}/acs"
  settings.name_identifier_format = PERSISTENT
  settings.certificate = File.read("#{ROW}/sp.crt")
  settings.private_key = File.read("#{ROW}/sp.key")
  settings.security[:authn_requests_signed] = true
  settings.security[:want_assertions_encrypted] = true
  settings.security[:signature_method] = XMLSecurity::Document::RSA_SHA256
  settings.security[:digest_method] = XMLSecurity::Document::SHA256
  settings
end
SETTINGS = saml_settings

# Sessions: a random cookie naming the logged-in NameID (the apps of the other stacks use their
# framework's session; WEBrick has none). A fresh cookie on every login.
SESSIONS = {}
SESSIONS_LOCK = Mutex.new

def session_user(req)
  c = req.cookies.find { |k| k.name == 'rsid' }
  c && SESSIONS_LOCK.synchronize { SESSIONS[c.value] }
end

def refuse(res, why)
  warn "login refused: #{why}"
  res.status = 403
  res['Content-Type'] = 'text/plain'
  res.body = "login refused: #{why}"
end

# A plain 302 (WEBrick's set_redirect raises, and its error path would drop the cookie).
def redirect(res, location)
  res.status = 302
  res['Location'] = location
end

server = WEBrick::HTTPServer.new(BindAddress: '127.0.0.1', Port: PORT, AccessLog: [],
                                 Logger: WEBrick::Log.new($stderr, WEBrick::Log::WARN))

server.mount_proc('/metadata') do |_req, res|
  res['Content-Type'] = 'text/xml'
  res.body = OneLogin::RubySaml::Metadata.new.generate(SETTINGS)
end

server.mount_proc('/login') do |_req, res|
  redirect(res, OneLogin::RubySaml::Authrequest.new.create(SETTINGS))
end

server.mount_proc('/acs') do |req, res|
  next refuse(res, 'not a POST') unless req.request_method == 'POST'
  if req['content-length'].nil? && req['transfer-encoding'].nil?
    # A POST with no body (the forged-headers scenarios send one): reading req.query would make
    # WEBrick answer 411 and then fail draining the body on the kept-alive connection, which the
    # next request on it finds closed. Refuse it and close the connection.
    res.keep_alive = false
    next refuse(res, 'no SAMLResponse')
  end
  response = nil
  begin
    # Response.new parses (REXML) and can raise on its own, before is_valid?.
    response = OneLogin::RubySaml::Response.new(req.query['SAMLResponse'].to_s, settings: SETTINGS)
    valid = response.is_valid?
  rescue StandardError => e
    next refuse(res, "#{e.class}: #{e.message}")
  end
  next refuse(res, response.errors.join('; ')) unless valid
  nameid = response.nameid
  next refuse(res, 'no NameID') if nameid.nil? || nameid.empty?
  sid = SecureRandom.hex(32)
  SESSIONS_LOCK.synchronize { SESSIONS[sid] = nameid }
  res.cookies << WEBrick::Cookie.new('rsid', sid).tap { |c| c.path = '/' }
  redirect(res, '/whoami')
end

server.mount_proc('/whoami') do |req, res|
  res['Content-Type'] = 'text/plain'
  user = session_user(req)
  if user
    res.body = "user=#{user}\n"
  else
    res.status = 401
    res.body = 'not logged in'
  end
end

trap('TERM') { server.shutdown }
trap('INT') { server.shutdown }
warn "ruby-saml #{OneLogin::RubySaml::VERSION} on #{BASE}"
server.start
