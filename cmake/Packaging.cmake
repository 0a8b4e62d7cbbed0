# The Debian package (CPack DEB): `cpack -G DEB` in a built tree (scripts/package.sh) makes
# cosync_<version>-<release>_amd64.deb with /usr/bin/cosyncd, its man page, the systemd unit, a
# commented /etc/cosync/cosync.yaml (a conffile) and the examples. Included once from
# CMakeLists.txt, after the cosyncd target.
include(GNUInstallDirs)

# The version printed by `cosyncd version` and the man page is the project's.
target_compile_definitions(cosyncd PRIVATE COSYNC_VERSION="${PROJECT_VERSION}")

# cosyncd(8) is printed by the binary itself (`cosyncd help --man`), from the same table as
# `cosyncd help`, so the man page cannot drift from the help.
set(cosync_man ${PROJECT_BINARY_DIR}/cosyncd.8.gz)
add_custom_command(OUTPUT ${cosync_man}
  COMMAND sh -c "'$<TARGET_FILE:cosyncd>' help --man | gzip -9n > '${cosync_man}'"
  DEPENDS cosyncd VERBATIM)
add_custom_target(cosyncd_man ALL DEPENDS ${cosync_man})

set(COSYNC_DEB_RELEASE 1)
set(COSYNC_DEB_VERSION ${PROJECT_VERSION}-${COSYNC_DEB_RELEASE})
configure_file(packaging/changelog.in ${PROJECT_BINARY_DIR}/packaging/changelog @ONLY)
set(cosync_changelog ${PROJECT_BINARY_DIR}/changelog.Debian.gz)
add_custom_command(OUTPUT ${cosync_changelog}
  COMMAND sh -c "gzip -9n < '${PROJECT_BINARY_DIR}/packaging/changelog' > '${cosync_changelog}'"
  DEPENDS ${PROJECT_BINARY_DIR}/packaging/changelog VERBATIM)
add_custom_target(cosync_changelog ALL DEPENDS ${cosync_changelog})

set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
  OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(cosync_doc ${CMAKE_INSTALL_DATAROOTDIR}/doc/cosync)
install(FILES ${cosync_man} DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES systemd/cosyncd.service DESTINATION /lib/systemd/system)
install(FILES packaging/cosync.yaml DESTINATION /etc/cosync)
install(FILES README.md packaging/copyright ${cosync_changelog} DESTINATION ${cosync_doc})
install(DIRECTORY config/examples/ DESTINATION ${cosync_doc}/examples)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME cosync)
set(CPACK_PACKAGE_VENDOR "The cosync authors")
set(CPACK_PACKAGE_CONTACT "cosync maintainers <maintainers@cosync.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Microsoft Partner Center referrals <-> CRM sync daemon")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "cosyncd keeps Microsoft Partner Center referrals and a CRM (Salesforce\n\
or Dynamics 365) mirrored both ways: new referrals appear in the CRM within\n\
one poll interval, and status changes in the CRM flow back to Partner\n\
Center. Every write is conditional, so nothing is duplicated or\n\
overwritten. It runs as a hardened systemd service.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${COSYNC_DEB_RELEASE})
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: computed by dpkg-shlibdeps from the libraries cosyncd links (spdlog, yaml-cpp,
# OpenSSL, SQLite, libstdc++...).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Beside them: procps for /bin/kill, which the unit's ExecReload= runs (a minimal Debian root
# lacks it and `systemctl reload` failed with 203/EXEC: tests/ops/systemd_test.sh).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "procps")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
