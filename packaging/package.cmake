# The Debian packages (cpack -G DEB, or scripts/package.sh), made of the install components:
#   ccmesh      runtime + etc: programs, shared library, units, /etc/ccmesh conffiles; its
#               maintainer scripts (packaging/debian/) add the `ccmesh` system user and
#               /var/lib/ccmesh, and never start or enable a unit
#   ccmesh-dev  dev: headers, static library, CMake package, pkg-config file
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ccmesh)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR ccmesh)
set(CPACK_PACKAGE_CONTACT "ccmesh maintainers <ccmesh@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
# Debug information stays in the build tree.
set(CPACK_STRIP_FILES ON)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime etc dev)
set(CPACK_COMPONENTS_GROUPING ONE_PER_GROUP)
set(CPACK_COMPONENT_RUNTIME_GROUP main)
set(CPACK_COMPONENT_ETC_GROUP main)
set(CPACK_COMPONENT_DEV_GROUP dev)
# Debian descriptions: a summary line, then the long text (no CPACK_PACKAGE_DESCRIPTION_SUMMARY:
# CPack would put it above both).
set(CPACK_DEBIAN_MAIN_DESCRIPTION "named, supervised Claude Code CLI sessions behind a ZeroMQ broker
ccmesh runs AI coding-assistant CLI sessions as named, supervised, cluster-wide
sessions: ccmesh-broker routes each prompt to the ccmesh-worker hosting the session,
workers spawn and supervise the CLIs, and the ccmesh tool queries and manages them.
The systemd units ccmesh-broker.service and ccmesh-worker.service are installed but
neither enabled nor started.")
set(CPACK_DEBIAN_DEV_DESCRIPTION "C++ client library of ccmesh: headers, CMake and pkg-config files
The client library of ccmesh (static, and the link to the shared one), its headers,
the CMake package (find_package(ccmesh), target ccmesh::client) and the pkg-config
file ccmesh-client.")

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_MAIN_PACKAGE_NAME ccmesh)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME ccmesh-dev)
set(CPACK_DEBIAN_MAIN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# Shared-library dependencies (libzmq5, libspdlog1.1, libboost-program-options1.74.0, ...)
# come from dpkg-shlibdeps; libsodium23 comes with libzmq5.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_MAIN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "ccmesh (= ${PROJECT_VERSION}), cppzmq-dev, libzmq3-dev, libmsgpack-cxx-dev")

set(ccmesh_debian_dir ${CMAKE_CURRENT_BINARY_DIR}/debian)
foreach(script postinst prerm postrm)
  file(COPY ${CMAKE_CURRENT_SOURCE_DIR}/debian/${script} DESTINATION ${ccmesh_debian_dir}
    FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
    WORLD_READ WORLD_EXECUTE)
endforeach()
# Our own maintainer scripts replace CPack's, which would call ldconfig: a trigger does.
file(CONFIGURE OUTPUT ${ccmesh_debian_dir}/triggers CONTENT "activate-noawait ldconfig\n")
file(CONFIGURE OUTPUT ${ccmesh_debian_dir}/conffiles CONTENT
  "/etc/ccmesh/broker.conf\n/etc/ccmesh/sessions.conf\n/etc/ccmesh/worker.conf\n")
set(CPACK_DEBIAN_MAIN_PACKAGE_CONTROL_EXTRA
  ${ccmesh_debian_dir}/postinst ${ccmesh_debian_dir}/prerm ${ccmesh_debian_dir}/postrm
  ${ccmesh_debian_dir}/conffiles ${ccmesh_debian_dir}/triggers)
set(CPACK_DEBIAN_MAIN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
