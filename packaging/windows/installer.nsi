; Claude Watch per-user installer (NSIS 3). No admin rights: everything goes under the user's
; profile and HKCU. Compiled by the release workflow on Windows and, as a syntax and packaging
; check with a stand-in payload, by tests/integration/test_nsis_installer.py (Debian's nsis).
;
;   makensis -DVERSION=0.1.0 -DSRCDIR=dist\claude-watch -DOUTFILE=dist\claude-watch-0.1.0-setup.exe installer.nsi
;
; SRCDIR is the PyInstaller one-folder bundle: claude-watch.exe (console: the CLI and the status
; line Claude Code runs), ClaudeWatch.exe (windowed: the tray, for the Start menu and login) and
; their shared _internal folder. User data (settings, history, keyring entries) is never touched.

Unicode true
SetCompressor /SOLID lzma
RequestExecutionLevel user

!ifndef VERSION
  !error "pass -DVERSION=x.y.z"
!endif
!ifndef SRCDIR
  !error "pass -DSRCDIR=<the one-folder bundle>"
!endif
!ifndef OUTFILE
  !define OUTFILE "claude-watch-${VERSION}-setup.exe"
!endif

!define APPNAME "Claude Watch"
!define CLI_EXE "claude-watch.exe"
!ifndef GUI_EXE
  !define GUI_EXE "ClaudeWatch.exe"
!endif
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\ClaudeWatch"
; The same value trayapp/platform/autostart.py writes, so the app's own setting sees it.
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define RUN_VALUE "Claude Watch"

Name "${APPNAME}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${APPNAME}"
InstallDirRegKey HKCU "${UNINST_KEY}" "InstallLocation"
VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${APPNAME}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${APPNAME} installer"
VIAddVersionKey "LegalCopyright" "Claude Watch contributors"

!include "MUI2.nsh"
!define MUI_FINISHPAGE_RUN "$INSTDIR\${GUI_EXE}"
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Section "${APPNAME}" SecApp
  SectionIn RO
  ; An upgrade: stop a running copy (it holds files open) and drop the old bundle's libraries.
  nsExec::Exec 'taskkill /F /IM "${GUI_EXE}"'
  Pop $0
  RMDir /r "$INSTDIR\_internal"
  SetOutPath "$INSTDIR"
  File /r "${SRCDIR}\*.*"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateDirectory "$SMPROGRAMS\${APPNAME}"
  CreateShortcut "$SMPROGRAMS\${APPNAME}\${APPNAME}.lnk" "$INSTDIR\${GUI_EXE}"
  CreateShortcut "$SMPROGRAMS\${APPNAME}\Uninstall ${APPNAME}.lnk" "$INSTDIR\uninstall.exe"

  ; Listed in Settings > Apps (per user).
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayName" "${APPNAME}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINST_KEY}" "Publisher" "Claude Watch contributors"
  WriteRegStr HKCU "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\${GUI_EXE}"
  WriteRegStr HKCU "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoRepair" 1
SectionEnd

Section /o "Start at login" SecLogin
  WriteRegStr HKCU "${RUN_KEY}" "${RUN_VALUE}" '"$INSTDIR\${GUI_EXE}"'
SectionEnd

Section /o "Desktop shortcut" SecDesktop
  CreateShortcut "$DESKTOP\${APPNAME}.lnk" "$INSTDIR\${GUI_EXE}"
SectionEnd

Section "Uninstall"
  nsExec::Exec 'taskkill /F /IM "${GUI_EXE}"'
  Pop $0
  Delete "$SMPROGRAMS\${APPNAME}\${APPNAME}.lnk"
  Delete "$SMPROGRAMS\${APPNAME}\Uninstall ${APPNAME}.lnk"
  RMDir "$SMPROGRAMS\${APPNAME}"
  Delete "$DESKTOP\${APPNAME}.lnk"
  DeleteRegValue HKCU "${RUN_KEY}" "${RUN_VALUE}"
  ; desktop-notifier registers the toast sender here.
  DeleteRegKey HKCU "Software\Classes\AppUserModelId\${APPNAME}"
  DeleteRegKey HKCU "${UNINST_KEY}"
  ; The bundle only: settings, history and the keyring live elsewhere and stay.
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\${CLI_EXE}"
  Delete "$INSTDIR\${GUI_EXE}"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
SectionEnd
