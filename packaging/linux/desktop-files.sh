# Sourced by build-deb.sh and build-appimage.sh: the files a desktop reads, under a usr/ folder.
#   install_desktop_files USR_DIR VERSION
# share/applications/claude-watch.desktop, the hicolor icons at every size plus the SVG, and the
# AppStream metainfo with the version and today's date filled in.
install_desktop_files() {
  local usr=$1 version=$2 linux root size
  linux=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  root=$(cd "$linux/../.." && pwd)
  install -D -m 644 "$root/resources/claude-watch.desktop" "$usr/share/applications/claude-watch.desktop"
  for size in 16 22 24 32 48 64 128 256; do
    install -D -m 644 "$root/resources/icons/claude-watch-$size.png" \
      "$usr/share/icons/hicolor/${size}x${size}/apps/claude-watch.png"
  done
  install -D -m 644 "$root/resources/icons/claude-watch.svg" "$usr/share/icons/hicolor/scalable/apps/claude-watch.svg"
  install -d "$usr/share/metainfo"
  sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$(date -u +%F)/" "$linux/com.claudewatch.ClaudeWatch.metainfo.xml" \
    > "$usr/share/metainfo/com.claudewatch.ClaudeWatch.metainfo.xml"
}
