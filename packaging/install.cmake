# `make install` (cmake --install): the layout of an installed irisx.
#   <prefix>/bin/irisx, <prefix>/bin/irisx-cli
#   <prefix>/share/irisx/sounds/          the prompts the build generated
#   <prefix>/share/man/man8/irisx.8, man1/irisx-cli.1
#   <prefix>/lib/systemd/system/irisx.service
#   <prefix>/lib/sysusers.d/irisx.conf    the irisx system user
#   /etc/irisx/                           the default conf/, never overwritten
#   /var/lib/irisx/                       the state directory (esl_password, …)
# /etc/irisx and /var/lib/irisx are where irisx looks without -c and -s, so
# they do not follow the prefix; DESTDIR applies to every path.
include(GNUInstallDirs)

set(IRISX_CONF_INSTALL_DIR /etc/irisx)
set(IRISX_STATE_INSTALL_DIR /var/lib/irisx)
set(IRISX_BINDIR ${CMAKE_INSTALL_FULL_BINDIR})

install(TARGETS irisx RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET irisx-cli)
  install(TARGETS irisx-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(DIRECTORY ${IRISX_SOUNDS_DIR}/ DESTINATION ${IRISX_SOUNDS_INSTALL_DIR}
        PATTERN ".stamp" EXCLUDE)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/irisx.8
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/irisx-cli.1
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

configure_file(${CMAKE_SOURCE_DIR}/packaging/irisx.service.in
               ${CMAKE_BINARY_DIR}/packaging/irisx.service @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/packaging/irisx.service
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/irisx.sysusers
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/sysusers.d RENAME irisx.conf)

# The default configuration goes in only where there is none: an admin's
# /etc/irisx is never touched by a reinstall or an upgrade.
install(CODE "
  set(conf \"\$ENV{DESTDIR}${IRISX_CONF_INSTALL_DIR}\")
  if(EXISTS \"\${conf}/freeswitch.xml\")
    message(STATUS \"Keeping the configuration in \${conf}\")
  else()
    message(STATUS \"Installing the default configuration into \${conf}\")
    file(MAKE_DIRECTORY \"\${conf}\")
    file(COPY \"${CMAKE_SOURCE_DIR}/conf/\" DESTINATION \"\${conf}\")
  endif()
  file(MAKE_DIRECTORY \"\$ENV{DESTDIR}${IRISX_STATE_INSTALL_DIR}\")
  file(CHMOD \"\$ENV{DESTDIR}${IRISX_STATE_INSTALL_DIR}\"
       DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE)
")
