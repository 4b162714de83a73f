# `cmake --install build [--prefix /usr]`: what a server needs, where Debian
# keeps such things (see README, "Installing on a real server"):
#   <prefix>/sbin/yubinctl                    the administrator's command
#   <prefix>/lib/yubin/yubin-*                daemons and helpers Postfix and Dovecot run,
#                                             and yubin-lda's LDAP store module
#   <dovecot_moduledir>/auth/libauthdb_yubin.so   wherever the installed Dovecot looks
#   <prefix>/lib/systemd/system/yubin-*.service   units (their paths follow the prefix)
#   <prefix>/share/doc/yubin/                 README and the contrib/ examples
# Nothing is written to /etc and no user is created: contrib/install does that
# (it runs this install first).
include(GNUInstallDirs)
set(YUBIN_INSTALL_LIBEXECDIR "lib/yubin" CACHE STRING
    "Directory of the daemons and helpers, relative to the install prefix")
set(YUBIN_INSTALL_UNITDIR "lib/systemd/system" CACHE STRING
    "Directory of the systemd units, relative to the install prefix")

foreach(exe yubin-authd yubin-milter yubin-policyd yubin-lda yubin-checkpassword)
  if(TARGET ${exe})
    install(TARGETS ${exe} RUNTIME DESTINATION ${YUBIN_INSTALL_LIBEXECDIR})
  endif()
endforeach()
# yubin-lda loads the LDAP store from the directory it is in (lda/CMakeLists.txt).
if(TARGET yubin-store-ldap)
  install(TARGETS yubin-store-ldap LIBRARY DESTINATION ${YUBIN_INSTALL_LIBEXECDIR}
          PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()
if(TARGET yubinctl)
  install(TARGETS yubinctl RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
endif()

# Dovecot loads passdb/userdb drivers only from <moduledir>/auth, whatever
# the prefix (dovecot_moduledir of /usr/lib/dovecot/dovecot-config).
if(TARGET authdb_yubin AND YUBIN_DOVECOT_MODULEDIR)
  install(TARGETS authdb_yubin LIBRARY DESTINATION ${YUBIN_DOVECOT_MODULEDIR}/auth
          PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()

# The units in contrib/systemd name /usr/lib/yubin; installed elsewhere, they
# are rewritten to name the directory the binaries went to.
file(GLOB yubin_units CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/contrib/systemd/*.service)
foreach(unit ${yubin_units})
  get_filename_component(name ${unit} NAME)
  set(out ${PROJECT_BINARY_DIR}/install/systemd/${name})
  install(CODE "
    file(READ \"${unit}\" _unit)
    string(REPLACE \"/usr/lib/yubin/\" \"\${CMAKE_INSTALL_PREFIX}/${YUBIN_INSTALL_LIBEXECDIR}/\" _unit \"\${_unit}\")
    file(WRITE \"${out}\" \"\${_unit}\")")
  install(FILES ${out} DESTINATION ${YUBIN_INSTALL_UNITDIR})
endforeach()

install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
if(EXISTS ${PROJECT_SOURCE_DIR}/README.ja.md)
  install(FILES README.ja.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
endif()
install(DIRECTORY contrib/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
        PATTERN install EXCLUDE)
