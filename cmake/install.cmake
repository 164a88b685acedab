# Installs headers, the library, a CMake package (config + version) and a pkg-config file.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

if(TARGET taskpipe_mpi)
  install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
else()
  install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} PATTERN mpi EXCLUDE)
endif()
set(taskpipe_installed_libraries taskpipe)
if(TARGET taskpipe_nn)
  list(APPEND taskpipe_installed_libraries taskpipe_nn)
endif()
list(APPEND taskpipe_installed_libraries taskpipe_verdict)
if(TARGET taskpipe_train)
  list(APPEND taskpipe_installed_libraries taskpipe_train taskpipe_verdict_model)
endif()
install(TARGETS ${taskpipe_installed_libraries} EXPORT taskpipe-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(taskpipe_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/taskpipe)
# taskpipe::taskpipe_mpi, where MPI was found, in an export set of its own: the package config loads it only where
# its user's machine has MPI too, so the other targets never need MPI.
if(TARGET taskpipe_mpi)
  install(TARGETS taskpipe_mpi EXPORT taskpipe-mpi-targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT taskpipe-mpi-targets NAMESPACE taskpipe:: DESTINATION ${taskpipe_cmake_dir})
endif()
if(TARGET taskpipe_cli)
  install(TARGETS taskpipe_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

install(EXPORT taskpipe-targets NAMESPACE taskpipe:: DESTINATION ${taskpipe_cmake_dir})
configure_package_config_file(cmake/taskpipe-config.cmake.in
  ${PROJECT_BINARY_DIR}/taskpipe-config.cmake INSTALL_DESTINATION ${taskpipe_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/taskpipe-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/taskpipe-config.cmake ${PROJECT_BINARY_DIR}/taskpipe-config-version.cmake
  DESTINATION ${taskpipe_cmake_dir})

configure_file(cmake/taskpipe.pc.in ${PROJECT_BINARY_DIR}/taskpipe.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/taskpipe.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
