# Installation of what an operator needs besides the binary (systemd units, the environment file,
# the man page, the deployment and security docs) and a Debian package of all of it through CPack:
#   cmake -S . -B build -DCMAKE_INSTALL_PREFIX=/usr && cmake --build build --target package
# gives build/thinpool-exporter_<version>_<arch>.deb. Depends are computed by dpkg-shlibdeps.
include(GNUInstallDirs)

set(THINPOOL_PACKAGE_NAME thinpool-exporter)  # Debian package names take no underscore
set(THINPOOL_DOC_DIR ${CMAKE_INSTALL_DATADIR}/doc/${THINPOOL_PACKAGE_NAME})

install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/thinpool_exporter.service
              ${PROJECT_SOURCE_DIR}/deploy/systemd/thinpool_exporter.socket
        DESTINATION lib/systemd/system COMPONENT packaging)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/thinpool_exporter.default
        DESTINATION /etc/default RENAME thinpool_exporter
        COMPONENT packaging)
foreach(doc README.md docs/deployment.md docs/security.md)
  if(EXISTS ${PROJECT_SOURCE_DIR}/${doc})
    install(FILES ${PROJECT_SOURCE_DIR}/${doc} DESTINATION ${THINPOOL_DOC_DIR} COMPONENT packaging)
  endif()
endforeach()

# The man page, made from --help and --version by help2man when it is installed.
find_program(THINPOOL_HELP2MAN help2man)
if(THINPOOL_HELP2MAN)
  set(manpage ${PROJECT_BINARY_DIR}/man/thinpool_exporter.1)
  add_custom_command(
    OUTPUT ${manpage}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
    COMMAND ${THINPOOL_HELP2MAN} --no-info --section=1
            "--name=Prometheus exporter for Linux device-mapper thin pools"
            --output=${manpage} $<TARGET_FILE:thinpool_exporter>
    COMMAND gzip -9 -n -f ${manpage}
    DEPENDS thinpool_exporter
    COMMENT "Generating the man page with help2man"
    VERBATIM)
  add_custom_target(thinpool_manpage ALL DEPENDS ${manpage}.gz)
  install(FILES ${manpage}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT packaging)
else()
  message(STATUS "help2man not found: no man page in the package")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ${THINPOOL_PACKAGE_NAME})
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Prometheus exporter for Linux device-mapper thin pools")
set(CPACK_PACKAGE_DESCRIPTION
    "Reads every device-mapper thin pool and thin volume from the kernel (libdevmapper, read-only,\n"
    "noflush) on each scrape and exposes data and metadata usage, pool mode, transaction ids and\n"
    "thin volume sizes to Prometheus. Ships a hardened systemd unit (not enabled on install).")
set(CPACK_PACKAGE_CONTACT "thinpool_exporter maintainers <maintainers@invalid>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)

# Maintainer scripts: reload systemd's view of units; stop the socket and the service on removal
# (the socket first: a connection to it would start the service again). Neither is enabled on
# install: the operator decides (systemctl enable --now thinpool_exporter, or its .socket).
set(maintainer_dir ${PROJECT_BINARY_DIR}/packaging/debian)
file(WRITE ${maintainer_dir}/conffiles "/etc/default/thinpool_exporter\n")
file(WRITE ${maintainer_dir}/postinst
     "#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\n")
file(WRITE ${maintainer_dir}/prerm
     "#!/bin/sh\nset -e\nif [ \"$1\" = remove ] && [ -d /run/systemd/system ]; then\n"
     "  systemctl stop thinpool_exporter.socket thinpool_exporter.service || true\nfi\n")
file(WRITE ${maintainer_dir}/postrm
     "#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\n")
file(CHMOD ${maintainer_dir}/postinst ${maintainer_dir}/prerm ${maintainer_dir}/postrm
     PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ
                 WORLD_EXECUTE)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${maintainer_dir}/conffiles ${maintainer_dir}/postinst ${maintainer_dir}/prerm
    ${maintainer_dir}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
