# `cmake --install` puts bin/smcl, the headers, the library and a CMake package (find_package(smcl)).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS smcl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS smcl_lib EXPORT smclTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY src/smcl ${CMAKE_BINARY_DIR}/src/generated/smcl DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
install(EXPORT smclTargets NAMESPACE smcl:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/smcl)
configure_package_config_file(cmake/smclConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/smclConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/smcl)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/smclConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/smclConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/smclConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/smcl)
