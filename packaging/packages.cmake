# Debian packages (CPack, DEB generator, one package per component): tools/build-packages
# builds them. Each daemon package ships its binary, a systemd unit and a commented example
# config in /etc/hafs/ (a dpkg conffile), so a host takes one role by installing one package
# and editing one file.
#
#   hafs-master       /usr/bin/hafs-master, hafs-master.service, /etc/hafs/master.conf
#   hafs-chunkserver  /usr/bin/hafs-chunkserver, hafs-chunkserver.service, /etc/hafs/chunkserver.conf
#   hafs-client       /usr/bin/hafs-mount, hafs-mount.service, /etc/hafs/mount.conf,
#                     /usr/lib/hafs/hafs-mount-helper (the unit's mountpoint upkeep)
#   hafs-tools        /usr/bin/hafs, /usr/bin/hafs-bench
#
# The master and the chunkserver run as the system user hafs (made by postinst), owner of
# /var/lib/hafs/<role>; the mount runs as root (FUSE with allow_other). postinst also makes
# /etc/hafs/keys, where the operator puts the host's CURVE keys and, on a master or
# chunkserver host, the cluster's chunk access token key (token.key); no package makes a key
# (docs/operations.md, "Keys"). The master and chunkserver units reload (SIGHUP: reread
# the authorized keys) with /bin/kill, hence procps in their Depends.
# Binaries are stripped in the packages (CPACK_STRIP_FILES): 2-4 MB instead of 15-20 MB.

set(HAFS_PACKAGING_DIR ${CMAKE_CURRENT_SOURCE_DIR}/packaging)
set(HAFS_PACKAGING_OUT ${CMAKE_CURRENT_BINARY_DIR}/packaging)

# hafs_package_daemon(COMPONENT BINARY ROLE STATE_DIR): the binary, its unit, its example
# config (marked a conffile) and the maintainer scripts, made from packaging/debian/*.in.
# STATE_DIR (/var/lib/hafs/ROLE, owned by the user hafs) is empty for a daemon run as root.
function(hafs_package_daemon component binary role state_dir)
  install(TARGETS ${binary} RUNTIME DESTINATION bin COMPONENT ${component})
  install(FILES ${HAFS_PACKAGING_DIR}/systemd/${binary}.service DESTINATION /lib/systemd/system
          COMPONENT ${component})
  install(FILES ${HAFS_PACKAGING_DIR}/etc/${role}.conf DESTINATION /etc/hafs COMPONENT ${component})
  set(HAFS_UNIT ${binary}.service)
  set(HAFS_STATE_DIR ${state_dir})
  set(control_dir ${HAFS_PACKAGING_OUT}/${component})
  foreach(script postinst prerm postrm)
    configure_file(${HAFS_PACKAGING_DIR}/debian/${script}.in ${control_dir}/${script} @ONLY
                   FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                                    WORLD_READ WORLD_EXECUTE)
  endforeach()
  file(WRITE ${control_dir}/conffiles "/etc/hafs/${role}.conf\n")
  string(TOUPPER ${component} upper)
  set(CPACK_DEBIAN_${upper}_PACKAGE_CONTROL_EXTRA
      "${control_dir}/conffiles;${control_dir}/postinst;${control_dir}/prerm;${control_dir}/postrm" PARENT_SCOPE)
endfunction()

hafs_package_daemon(master hafs-master master /var/lib/hafs/master)
hafs_package_daemon(chunkserver hafs-chunkserver chunkserver /var/lib/hafs/chunkserver)
hafs_package_daemon(client hafs-mount mount "")
install(PROGRAMS ${HAFS_PACKAGING_DIR}/hafs-mount-helper DESTINATION lib/hafs COMPONENT client)
install(TARGETS hafs hafs-bench RUNTIME DESTINATION bin COMPONENT tools)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME hafs)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "hafs developers <hafs@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL master chunkserver client tools)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # <package>_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # dpkg-shlibdeps (dpkg-dev) computes the library Depends
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_MASTER_PACKAGE_NAME hafs-master)
set(CPACK_DEBIAN_MASTER_PACKAGE_DEPENDS "adduser, procps")
set(CPACK_COMPONENT_MASTER_DESCRIPTION "hafs metadata master
The namespace, the file-to-chunk map and replica placement of a hafs cluster,
active or hot standby. Edit /etc/hafs/master.conf, put the cluster's keys and
its token key (token.key) in /etc/hafs/keys, then systemctl enable --now
hafs-master.")
set(CPACK_DEBIAN_CHUNKSERVER_PACKAGE_NAME hafs-chunkserver)
set(CPACK_DEBIAN_CHUNKSERVER_PACKAGE_DEPENDS "adduser, procps")
set(CPACK_COMPONENT_CHUNKSERVER_DESCRIPTION "hafs chunkserver
Stores checksummed chunks of a hafs cluster in /var/lib/hafs/chunkserver (or other
data directories) and serves them. Edit /etc/hafs/chunkserver.conf, put the
cluster's keys and its token key (token.key) in /etc/hafs/keys, then
systemctl enable --now hafs-chunkserver.")
set(CPACK_DEBIAN_CLIENT_PACKAGE_NAME hafs-client)
set(CPACK_DEBIAN_CLIENT_PACKAGE_DEPENDS fuse3)
set(CPACK_COMPONENT_CLIENT_DESCRIPTION "hafs FUSE client
hafs-mount mounts a hafs cluster as a local directory (/mnt/hafs by default).
Edit /etc/hafs/mount.conf, put the cluster's keys in /etc/hafs/keys, then
systemctl enable --now hafs-mount.")
set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME hafs-tools)
set(CPACK_COMPONENT_TOOLS_DESCRIPTION "hafs admin tools
hafs (status, chunkservers, fileinfo, goals, maintenance, decommission) and
hafs-bench, the file-system benchmark.")

include(CPack)
